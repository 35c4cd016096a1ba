-- Signers bound to components (issue 11): a JSON list of allowed signers
-- (subject RDN set, SPKI SHA-256 or Sigstore SAN); empty: any key of the
-- vendor may sign the component, as before.
ALTER TABLE components ADD COLUMN allowed_signers TEXT NOT NULL DEFAULT '[]';
