// End-to-end test of the registry pages in a real browser: headless Debian
// Chromium driven by playwright-core. Run by tests/run-all.sh after the Rust
// tests:  node tests/browser/e2e.mjs
//
// Flows: procurement signs in with a password, creates a vendor with its
// contract terms and uploads a certificate through the forms (the anchor is a
// proposal an admin approves on the Approvals page: two people); security
// revokes it (with the confirmation step, then a second person's approval);
// procurement uploads a vendor-signed SBOM that binds the image's version;
// security defines and checks a product release (attested; its SBOM and CRA
// evidence pack download, the pack byte-identical when rebuilt), and after
// the revocation the same release is blocked with the reasons named;
// procurement retires a component and proposes putting it back; an inspector's receipt appears in the list with its reasons; an
// auditor sees no forms and is refused if it posts one; a forged form without
// the CSRF token is refused. With SCREENSHOTS=dir it saves the main pages.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');
const REGISTRY = process.env.REGISTRY_BIN || join(target, 'debug/tollgate-registry');
const INSPECT = process.env.INSPECT_BIN || join(target, 'debug/tollgate-inspect');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS || '';
const fx = join(root, 'tests/fixtures/cms');

let failures = 0;
function check(cond, what) {
  if (cond) { console.log(`ok   ${what}`); } else { failures++; console.log(`FAIL ${what}`); }
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-browser-'));
const env = { ...process.env, DATABASE_URL: join(dir, 'tollgate.db') };
const users = { ana: 'procurement', sam: 'security', audrey: 'auditor', ada: 'admin' };
const password = 'correct horse battery staple';
for (const [u, role] of Object.entries(users)) {
  execFileSync(REGISTRY, ['user', 'create', '--username', u, '--role', role], { env: { ...env, TOLLGATE_PASSWORD: password } });
}
const server = spawn(REGISTRY, ['serve', '--bind', '127.0.0.1:0', '--pin-time', '2026-10-01T00:00:00Z', '--data-dir', dir], { env, stdio: ['ignore', 'pipe', 'ignore'] });
let token = '', base = '';
for await (const line of readline.createInterface({ input: server.stdout })) {
  if (line.startsWith('tg_')) token = line.trim();
  const m = line.match(/listening on (http:\/\/[^/]+)\//);
  if (m) { base = m[1]; break; }
}
const api = async (method, path, body, tok = token) => {
  const r = await fetch(base + '/api/v1' + path, { method, headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, json: await r.json().catch(() => null) };
};

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
if (SHOTS) mkdirSync(SHOTS, { recursive: true });
const shot = async (page, name) => { if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }); };

async function signIn(user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(base + '/');
  check(page.url().includes('/login'), `${user}: unauthenticated visit goes to the sign-in page`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  check(await page.locator('h1', { hasText: 'Dashboard' }).count() === 1, `${user}: signed in, dashboard shown`);
  const cookies = await context.cookies();
  const s = cookies.find((c) => c.name === 'tollgate_session');
  check(s && s.httpOnly && s.sameSite === 'Strict', `${user}: session cookie is HttpOnly and SameSite=Strict`);
  return { context, page };
}

try {
  // Seed through the API: a TSA root and an anchor for the vendor created below come from procurement's forms.
  // --- procurement: create a vendor and upload a certificate -------------------------
  const { page: p } = await signIn('ana');
  await shot(p, 'dashboard-empty');
  await p.goto(base + '/vendors');
  await p.getByRole('link', { name: 'New vendor' }).click();
  await p.getByLabel('Identifier').fill('acme');
  await p.getByLabel('Name', { exact: true }).fill('Acme Chips <b>&</b> Co');
  await p.getByLabel('Contract reference').fill('C-2026-001');
  await p.getByLabel('Contract expires').fill('2027-01-15');
  await p.getByLabel('PSIRT contact / vulnerability disclosure').fill('psirt@acme.example');
  await p.getByLabel('Support ends').fill('2027-02-01');
  await p.getByLabel('ecdsa-p256').check();
  await p.getByLabel('ecdsa-p384').check();
  await p.getByLabel('How the vendor protects its signing keys').fill('FIPS 140-3 level 3 HSM');
  await p.getByLabel('Compromise reporting deadline (hours)').fill('24');
  await shot(p, 'vendor-form');
  await p.getByRole('button', { name: 'Create vendor' }).click();
  await p.waitForLoadState();
  check(p.url().startsWith(base + '/vendors/acme'), 'procurement created the vendor through the form');
  check((await p.locator('h1').innerText()).includes('Acme Chips <b>&</b> Co'), 'the vendor name with markup is shown as text');
  // A leaf offered as anchor: specific feedback.
  await p.getByLabel('Certificate file (PEM or DER)').setInputFiles(join(fx, 'certs/acme-signer-p256.pem'));
  await p.getByRole('button', { name: 'Upload and check' }).click();
  await p.waitForLoadState();
  check((await p.locator('.error').innerText()).includes('is not a CA certificate'), 'uploading a leaf as anchor gives a specific refusal');
  await p.getByLabel('Certificate file (PEM or DER)').setInputFiles(join(fx, 'certs/acme-root.pem'));
  await p.getByRole('button', { name: 'Upload and check' }).click();
  await p.waitForLoadState();
  const proposed = await p.locator('.flash').innerText();
  check(proposed.includes('Proposal') && proposed.includes('Approvals'), 'registering an anchor is a proposal: nothing changes until a second person approves');
  check((await api('GET', '/vendors/acme/certificates')).json.length === 0, 'the anchor is not registered before the approval');
  check((await p.content()).includes('ecdsa-p256, ecdsa-p384') && (await p.content()).includes('report within 24 h'), 'the vendor page shows the contract terms');
  // Ana cannot approve her own proposal; Ada (admin) approves it on the Approvals page.
  await p.goto(base + '/approvals');
  await p.getByRole('button', { name: 'Approve' }).first().click();
  await p.waitForLoadState();
  check((await p.locator('.error').innerText()).includes('another person'), 'the proposer cannot approve her own proposal');
  const { page: adm } = await signIn('ada');
  await adm.goto(base + '/approvals');
  check((await adm.content()).includes('as an anchor of vendor'), 'the Approvals page lists the anchor proposal');
  await shot(adm, 'approvals');
  await adm.getByLabel('Note with your approval (optional)').first().fill('fingerprint checked with Acme by phone');
  await adm.getByRole('button', { name: 'Approve' }).first().click();
  await adm.waitForLoadState();
  check((await adm.locator('.flash').innerText()).includes('approved and applied'), 'a second person approved: the anchor is registered');
  check((await api('GET', '/vendors/acme/certificates')).json.length === 1, 'the anchor is registered after the approval');
  await p.goto(base + '/vendors/acme');
  await p.getByLabel('Role').selectOption('intermediate');
  await p.getByLabel('Certificate file (PEM or DER)').setInputFiles(join(fx, 'certs/acme-int.pem'));
  await p.getByRole('button', { name: 'Upload and check' }).click();
  await p.waitForLoadState();
  await p.getByLabel('Component name').fill('acme-wifi-fw');
  await p.getByLabel('Initial floor (optional)').fill('1.5.0');
  await p.getByRole('button', { name: 'Authorise' }).click();
  await p.waitForLoadState();
  check((await p.content()).includes('acme-wifi-fw'), 'procurement authorised a component');
  // A vendor-signed SBOM (made here with openssl cms, as Acme would) binds fw.bin to 1.5.0.
  const fwDigest = execFileSync('sha256sum', [join(fx, 'blobs/fw.bin')]).toString().split(' ')[0];
  const sbomPath = join(dir, 'acme-wifi-fw-1.5.0.cdx.json');
  writeFileSync(sbomPath, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
    serialNumber: 'urn:uuid:6a2f41a3-c54c-4d8e-9c1a-3f0b5e7d2c11',
    metadata: { component: { type: 'firmware', name: 'acme-wifi-fw', version: '1.5.0', hashes: [{ alg: 'SHA-256', content: fwDigest }] } } }, null, 2));
  execFileSync('openssl', ['cms', '-sign', '-binary', '-nosmimecap', '-md', 'sha256', '-outform', 'DER', '-in', sbomPath,
    '-signer', join(fx, 'certs/acme-signer-p256.pem'), '-inkey', join(fx, 'keys/acme-signer-p256.key'),
    '-certfile', join(fx, 'certs/acme-int.pem'), '-out', sbomPath + '.p7s']);
  await p.getByLabel('CycloneDX SBOM (JSON 1.5 or 1.6)').setInputFiles(sbomPath);
  await p.getByLabel('Its detached signature (CMS, or a Sigstore bundle)').setInputFiles(sbomPath + '.p7s');
  await p.getByRole('button', { name: 'Verify and record' }).click();
  await p.waitForLoadState();
  check((await p.locator('.flash').innerText()).includes('binds 1 image version'), 'procurement uploaded a vendor-signed SBOM on the vendor page');
  check((await p.content()).includes('urn:uuid:6a2f41a3-c54c-4d8e-9c1a-3f0b5e7d2c11'), 'the vendor page lists the SBOM and what it binds');
  await shot(p, 'vendor-sbom');
  // A forged form: the CSRF field removed before submitting.
  await p.goto(base + '/vendors/new');
  await p.getByLabel('Identifier').fill('forged');
  await p.getByLabel('Name', { exact: true }).fill('Forged');
  await p.evaluate(() => document.querySelectorAll('main input[name=csrf]').forEach((e) => e.remove()));
  const forged = p.waitForResponse((r) => r.url().endsWith('/vendors/new') && r.request().method() === 'POST');
  await p.getByRole('button', { name: 'Create vendor' }).click();
  check((await forged).status() === 403, 'a form without the CSRF token is refused (403)');
  check((await api('GET', '/vendors/forged')).status === 404, 'the forged form created nothing');

  // --- an inspector records a receipt (a real report from tollgate-inspect) -----------------
  const insp = await api('POST', '/tokens', { name: 'station-7', role: 'inspector' });
  let report;
  try {
    execFileSync(INSPECT, ['verify', '--trust', join(fx, 'trust.json'), '--vendor', 'acme', '--component', 'acme-wifi-fw', '--version', '1.5.0', '--at', '2026-10-01T00:00:00Z', '--format', 'json', '--signature', join(fx, 'sigs/expired-nots.der'), join(fx, 'blobs/fw.bin')]);
  } catch (e) { report = JSON.parse(e.stdout.toString()); }
  const accepted = JSON.parse(execFileSync(INSPECT, ['verify', '--trust', join(fx, 'trust.json'), '--vendor', 'acme', '--component', 'acme-wifi-fw', '--version', '1.5.0', '--at', '2026-10-01T00:00:00Z', '--format', 'json', '--signature', join(fx, 'sigs/p256-detached.der'), join(fx, 'blobs/fw.bin')]).toString());
  // Each receipt carries its evidence (the signature file); the registry re-verifies it.
  const evidence = (name) => readFileSync(join(fx, 'sigs', name)).toString('base64');
  const rejected = await api('POST', '/receipts', { station: 'station-7', lot: 'LOT-42', bundle_serial: 5, report, signature: evidence('expired-nots.der') }, insp.json.token);
  check(rejected.status === 201 && rejected.json.registry_verdict === 'reject', 'inspector posted a rejection receipt; the registry re-verified it and agrees');
  const acc = await api('POST', '/receipts', { station: 'station-7', lot: 'LOT-42', bundle_serial: 5, report: accepted, signature: evidence('p256-detached.der') }, insp.json.token);
  check(acc.status === 201 && acc.json.registry_verdict === 'accept' && acc.json.disagreement === false, 'inspector posted an acceptance receipt; the registry re-verified it and agrees');
  check(acc.json.registry_report.version_source === 'vendor-signed SBOM urn:uuid:6a2f41a3-c54c-4d8e-9c1a-3f0b5e7d2c11', "the accepted image's version is bound by the vendor's signed SBOM");

  // --- security: a release, checked while its image is proven -------------------------------
  const { page: s } = await signIn('sam');
  // A product whose ROM verifies P-256 only: the page shows what each stage trusts.
  const prod = await api('POST', '/products', { id: 'gw-100', name: 'Gateway 100', stages: [
    { name: 'rom', algorithms: ['ecdsa-p256'], components: ['acme-wifi-fw'] },
    { name: 'bootloader', algorithms: ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'], components: ['acme-wifi-fw'] }] });
  check(prod.status === 201, 'a product is defined through the API');
  await s.goto(base + '/products/gw-100');
  const fwSha = execFileSync('sha256sum', [join(fx, 'blobs/fw.bin')]).toString().split(' ')[0];
  await s.getByLabel('Release version').fill('2026.12.0');
  await s.getByLabel(/Images, one per line/).fill(`rom acme-wifi-fw ${fwSha}\nbootloader acme-wifi-fw ${fwSha}`);
  await s.getByRole('button', { name: 'Define release' }).click();
  await s.waitForLoadState();
  check((await s.locator('.flash').innerText()).includes('Release 2026.12.0 defined'), 'security defined a release on the product page');
  await s.getByRole('button', { name: 'Check 2026.12.0' }).click();
  await s.waitForLoadState();
  check((await s.locator('.flash').innerText()).includes('passed'), 'the release check passed: every image proven, attested');
  await shot(s, 'release');
  const sbomResp = await s.request.get(base + '/products/gw-100/releases/2026.12.0/sbom');
  const sbomDoc = JSON.parse(await sbomResp.text());
  check(sbomResp.ok() && sbomDoc.specVersion === '1.6' && sbomDoc.components.length === 2, 'the release SBOM (CycloneDX 1.6) downloads from the product page');
  await s.getByRole('link', { name: 'CRA evidence pack' }).first().waitFor();
  const packResp = await s.request.get(base + '/products/gw-100/releases/2026.12.0/evidence');
  const pack = await packResp.body();
  check(packResp.ok() && packResp.headers()['content-type'] === 'application/zip' && pack.subarray(0, 2).toString() === 'PK', 'the CRA evidence pack downloads as a ZIP from the product page');
  const packAgain = await (await s.request.get(base + '/products/gw-100/releases/2026.12.0/evidence')).body();
  check(Buffer.compare(pack, packAgain) === 0, 'the evidence pack is byte-identical when rebuilt');

  // --- security: revoke the intermediate, with the confirmation step ---------------------------
  await s.goto(base + '/vendors/acme');
  await s.getByRole('link', { name: 'Revoke…' }).last().click();
  await s.getByLabel('Reason').selectOption('keyCompromise');
  await s.getByLabel(/Invalid from/).fill('2026-08-16T00:00');
  await s.getByRole('button', { name: 'Review the revocation…' }).click();
  await s.waitForLoadState();
  const confirm = await s.locator('.warning').innerText();
  check(confirm.includes('This revocation affects') && confirm.includes('acme-wifi-fw'), 'the confirmation step shows what the revocation affects');
  await shot(s, 'revoke-confirm');
  check((await api('GET', '/revocations')).json.length === 0, 'nothing is revoked before confirming');
  await s.getByRole('button', { name: 'Revoke now' }).click();
  await s.waitForLoadState();
  check((await s.locator('.flash').innerText()).includes('Proposal'), 'the revocation is a proposal');
  check((await api('GET', '/revocations')).json.length === 0, 'nothing is revoked before a second person approves');
  await adm.goto(base + '/approvals');
  await adm.getByRole('button', { name: 'Approve' }).first().click();
  await adm.waitForLoadState();
  check((await adm.locator('.flash').innerText()).includes('approved and applied'), 'the admin approved the revocation');
  await s.goto(base + '/vendors/acme');
  check((await s.content()).includes('>revoked<'), 'the vendor page shows the certificate as revoked');
  const revs = (await api('GET', '/revocations')).json;
  check(revs.length === 1 && revs[0].invalidity_date === '2026-08-16T00:00:00Z', 'the revocation is recorded with its invalidity date');
  await shot(s, 'vendor');

  // --- the receipts, with their reasons ---------------------------------------------------
  await s.goto(base + '/receipts?lot=LOT-42&verdict=reject');
  check((await s.locator('tbody tr').count()) === 1, 'the receipt list filters by lot and verdict');
  check((await s.content()).includes('no trusted timestamp proves it signed before 2026-03-01'), 'the rejection reason is listed');
  await s.goto(base + '/receipts');
  await shot(s, 'receipts');
  await s.locator('tbody tr a').first().click();
  await s.waitForLoadState();
  check((await s.locator('td', { hasText: 'revocation' }).count()) >= 1, 'a receipt shows every check');
  check((await s.content()).includes("The registry's checks on the evidence"), "a receipt shows the registry's own checks next to the station's");
  await shot(s, 'receipt');
  await s.goto(base + '/audit');
  check((await s.locator('.ok').innerText()).includes('intact'), 'the audit page shows the verified hash chain');
  await shot(s, 'audit');
  await s.goto(base + '/trust-bundle');
  await shot(s, 'trust-bundle');
  // The product page after the revocation: the ROM lost its key, and the
  // release, checked again, is blocked with the reasons named.
  await s.goto(base + '/products/gw-100');
  check((await s.content()).includes('Keys this stage cannot verify'), 'the product page shows the capability check');
  await s.getByRole('button', { name: 'Check 2026.12.0' }).click();
  await s.waitForLoadState();
  const verdict = await s.locator('.flash').innerText();
  check(verdict.includes('blocked') && verdict.includes('not proven'), 'the release check names why it is blocked (the image is no longer proven)');
  check((await s.locator('ul.problems li').count()) >= 1, 'the release lists its problems');
  await shot(s, 'product');
  await s.goto(base + '/');
  check((await s.content()).includes('Support periods ending within 90 days') && (await s.locator('section', { hasText: 'Support periods ending' }).innerText()).includes('acme'), 'the dashboard lists the support period ending soon');
  await shot(s, 'dashboard');

  // A product defined and edited through its form.
  await s.goto(base + '/products');
  await s.getByRole('link', { name: 'New product' }).click();
  await s.getByLabel('Identifier').fill('sensor-9');
  await s.getByLabel('Device model name').fill('Sensor 9');
  await s.locator('#stage0_name').fill('rom');
  await s.locator('input[name=stage0_alg][value=ecdsa-p256]').check();
  await s.locator('#stage0_components').fill('acme-wifi-fw');
  await shot(s, 'product-form');
  await s.getByRole('button', { name: 'Define product' }).click();
  await s.waitForLoadState();
  check(s.url().startsWith(base + '/products/sensor-9') && (await s.locator('.flash').innerText()).includes('Product defined'), 'security defined a product through the form');
  await s.getByRole('link', { name: 'Edit boot chain' }).click();
  await s.locator('#stage1_name').fill('os');
  await s.locator('input[name=stage1_alg][value=ed25519]').check();
  await s.getByRole('button', { name: 'Save' }).click();
  await s.waitForLoadState();
  const sensor = (await api('GET', '/products')).json.find((x) => x.id === 'sensor-9');
  check(sensor && sensor.stages.length === 2 && sensor.stages[1].algorithms[0] === 'ed25519', 'the edited boot chain is saved');

  // The revocations page: a CRL file, reviewed, then imported.
  await s.getByRole('link', { name: 'Revocations' }).click();
  await s.getByLabel('CRL file (PEM or DER)').setInputFiles(join(fx, 'certs/acme-int.crl.pem'));
  await s.getByRole('button', { name: 'Review the import…' }).click();
  await s.waitForLoadState();
  check((await s.locator('.warning').innerText()).includes('Import this CRL?'), 'a CRL import asks for confirmation first');
  check((await api('GET', '/revocations')).json.length === 1, 'nothing is imported before confirming');
  await s.getByRole('button', { name: 'Import now' }).click();
  await s.waitForLoadState();
  check((await s.locator('.flash').innerText()).includes('1 new revocations'), 'the CRL is imported after confirmation');
  check((await s.content()).includes('issued by CN=Acme Firmware Signing CA 1'), 'the revocations page lists the CRL entry');
  await shot(s, 'revocations');

  // Trust roots: a TSA anchor added on its page.
  await s.getByRole('link', { name: 'Trust roots' }).click();
  await s.getByLabel('CA certificate (PEM)').setInputFiles(join(fx, 'certs/tsa-root.pem'));
  await s.getByRole('button', { name: 'Check and trust' }).click();
  await s.waitForLoadState();
  check((await s.locator('.flash').innerText()).includes('TSA anchor CN=Test TSA Root'), 'security trusted a TSA root on the Trust roots page');
  // Retired (one person), then put back only through a proposal.
  const tsaRow = s.locator('tr', { hasText: 'CN=Test TSA Root' });
  await tsaRow.getByLabel('Why retire it').fill('rotated to a new TSA');
  await tsaRow.getByRole('button', { name: 'Retire' }).click();
  await s.waitForLoadState();
  check((await s.locator('.flash').innerText()).includes('retired'), 'security retired the TSA anchor on the Trust roots page');
  check((await s.content()).includes('retired: rotated to a new TSA'), 'the retired TSA anchor stays listed, marked retired');
  await shot(s, 'trust');
  await s.locator('tr', { hasText: 'CN=Test TSA Root' }).getByLabel('Why put it back').fill('the rotation was postponed');
  await s.locator('tr', { hasText: 'CN=Test TSA Root' }).getByRole('button', { name: 'Un-retire' }).click();
  await s.waitForLoadState();
  check((await s.locator('.flash').innerText()).includes('Proposal'), 'un-retiring the TSA anchor is a proposal');

  // Receipts: the total and the CSV of the filtered rows.
  await s.goto(base + '/receipts?verdict=reject');
  check((await s.locator('.count').innerText()).includes('1 receipt matches'), 'the receipts page shows the total');
  const csvResp = await s.request.get(base + '/receipts.csv?verdict=reject');
  const csvText = await csvResp.text();
  check(csvResp.headers()['content-type'].startsWith('text/csv') && csvText.split('\r\n').filter(Boolean).length === 2, 'the CSV download holds the header and the filtered row');

  // --- the auditor: sees everything, no forms, refused when posting -----------------------
  const { page: a, context: ac } = await signIn('audrey');
  await a.goto(base + '/vendors/acme');
  check((await a.locator('form[method=post]').count()) === 1, 'the auditor sees no forms (only sign-out)');
  check((await a.getByRole('link', { name: 'Revoke…' }).count()) === 0, 'the auditor sees no revoke links');
  const csrf = await a.locator('input[name=csrf]').first().getAttribute('value');
  const refused = await ac.request.post(base + '/vendors/new', { form: { csrf, id: 'aud', name: 'Audited', min_rsa_bits: '2048', sha256: '1' } });
  check(refused.status() === 403, 'the auditor is refused when it posts a form (403)');
  await a.goto(base + '/vendors');
  await shot(a, 'vendors');
  // Tablet width: the layout still works (no horizontal overflow of the page body).
  const tablet = await browser.newContext({ viewport: { width: 768, height: 1024 }, storageState: await ac.storageState() });
  const t = await tablet.newPage();
  await t.goto(base + '/vendors/acme');
  const overflow = await t.evaluate(() => document.body.scrollWidth - window.innerWidth);
  check(overflow <= 1, `tablet width: no page-level horizontal overflow (${overflow}px)`);
  await shot(t, 'vendor-tablet');

  // --- the admin: creates a station token (secret shown once), then revokes it -------------
  const { page: ad } = await signIn('ada');
  await ad.getByRole('link', { name: 'Access' }).click();
  await ad.waitForLoadState();
  await ad.getByLabel('Name (the station or person it is for)').fill('station-12');
  await ad.getByLabel('Role').selectOption('inspector');
  await ad.getByRole('button', { name: 'Create token' }).click();
  await ad.waitForLoadState();
  const secret = await ad.getByLabel('Secret').inputValue();
  check(secret.startsWith('tg_'), 'the new token is shown once after creation');
  const works = await fetch(base + '/api/v1/vendors', { headers: { Authorization: `Bearer ${secret}` } });
  check(works.status === 200, 'the new token works on the API');
  await shot(ad, 'tokens');
  await ad.goto(base + '/tokens');
  check(!(await ad.content()).includes(secret), 'the secret is not shown again');
  const row = ad.locator('tr', { hasText: 'station-12' });
  await row.getByRole('button', { name: 'Revoke' }).click();
  check(ad.url().endsWith('/tokens'), 'revoking without ticking the confirmation box does not submit');
  await row.getByLabel('I confirm revoking station-12').check();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await ad.waitForLoadState();
  check((await ad.content()).includes("Token 'station-12' (inspector) is revoked."), 'the revocation is confirmed on the page');
  const refusedNow = await fetch(base + '/api/v1/vendors', { headers: { Authorization: `Bearer ${secret}` } });
  check(refusedNow.status === 401, 'the revoked token is refused at once');

  // Users: created on the Access page with a generated password, shown once.
  await ad.getByLabel('User name').fill('ines');
  await ad.locator('#urole').selectOption('inspector');
  await ad.getByRole('button', { name: 'Create with a new password' }).click();
  await ad.waitForLoadState();
  const pw = await ad.getByLabel('Password', { exact: true }).inputValue();
  check(pw.length === 20, 'a new user gets a generated password shown once');
  await shot(ad, 'access');

  // --- procurement: retire a component, then propose putting it back -------------------------
  await p.goto(base + '/vendors/acme');
  const comp = p.locator('tr', { hasText: 'acme-wifi-fw' }).first();
  await comp.getByLabel('Why retire acme-wifi-fw').fill('registered under the wrong name');
  await comp.getByLabel('even if devices lose a bootable image').last().check();
  await comp.getByRole('button', { name: 'Retire' }).click();
  await p.waitForLoadState();
  check((await p.locator('.flash').innerText()).includes('retired'), 'procurement retired the component (one person)');
  check((await p.content()).includes('retired') && (await p.getByRole('button', { name: 'Un-retire' }).count()) >= 1, 'the retired component is listed with an Un-retire form');
  await shot(p, 'vendor-retired');
  await p.locator('tr', { hasText: 'acme-wifi-fw' }).first().getByLabel('Why put acme-wifi-fw back').fill('retired by mistake');
  await p.locator('tr', { hasText: 'acme-wifi-fw' }).first().getByRole('button', { name: 'Un-retire' }).click();
  await p.waitForLoadState();
  check((await p.locator('.flash').innerText()).includes('Proposal'), 'un-retiring is a proposal');
  await adm.goto(base + '/approvals');
  await adm.getByLabel('Why reject it').first().fill('keep it retired: the new name is registered');
  await adm.getByRole('button', { name: 'Reject' }).first().click();
  await adm.waitForLoadState();
  check((await adm.locator('.flash').innerText()).includes('rejected'), 'the admin rejected the un-retirement');
  check((await adm.content()).includes('keep it retired'), 'the decided list shows the rejection and its reason');

  // Phone width (360 px): no page scrolls sideways as a whole (wide tables scroll inside their box).
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, storageState: await ad.context().storageState() });
  const ph = await phone.newPage();
  for (const path of ['/', '/vendors', '/vendors/acme', '/vendors/new', '/receipts', '/revocations', '/audit', '/products', '/products/gw-100', '/products/new', '/trust', '/trust-bundle', '/tokens', '/approvals']) {
    await ph.goto(base + path);
    const over = await ph.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(over <= 1, `phone width ${path}: no page-level horizontal overflow (${over}px)`);
  }
  await ph.goto(base + '/vendors/acme');
  await shot(ph, 'vendor-phone');
} catch (e) {
  failures++;
  console.log('FAIL unexpected error:', e);
} finally {
  await browser.close();
  server.kill();
}
console.log(failures ? `${failures} browser check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
