DROP TABLE proposal_votes;
DROP TABLE proposals;
