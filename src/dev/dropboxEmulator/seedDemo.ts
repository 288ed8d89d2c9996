import type { DropboxEmulatorControl } from './emulator';

export interface DemoSeed {
  /** A refresh token of the demo app for the demo account, as an offline PKCE flow gives it. */
  refreshToken: string;
  /** The demo's Dropbox app: the service's own app in `npm run dev` ("Connect with Dropbox"). */
  appKey: string;
  appSecret: string;
  accountId: string;
  email: string;
  folderPath: string;
}

export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_FOLDER = '/Projects/Site A';

/** Construction-site files; two carry characters the product's path policy rejects. */
const DEMO_FILES: [name: string, size: number][] = [
  ['Foundation plan.pdf', 2_481_152],
  ['Kaivanto ä ö.dwg', 8_912_384],
  ['Site survey 2024.xlsx', 184_320],
  ['Rebar schedule.csv', 24_576],
  ['Structural calculations.pdf', 1_310_720],
  ['Safety plan.docx', 98_304],
  ['plan#2?.pdf', 655_360],
  ['Budget 50%.xlsx', 73_728],
];

export const DEMO_APP_KEY = 'demoappkey';

/**
 * A demo account with a mapped-folder-to-be: `/Projects/Site A` with eight files and a
 * `Photos` subfolder, and a demo app whose redirect URIs are `redirectUris` (the API's OAuth
 * callback). Calling it again reuses the account and files and issues a fresh refresh token.
 */
export function seedDemo(emulator: DropboxEmulatorControl, options: { redirectUris?: string[] } = {}): DemoSeed {
  const existing = emulator.listAccounts().find((a) => a.email === DEMO_EMAIL);
  const account =
    existing ?? emulator.addAccount({ email: DEMO_EMAIL, name: 'Demo User', accountType: 'pro' });
  const { accountId } = account;
  emulator.addFolder(accountId, DEMO_FOLDER);
  for (const [name, size] of DEMO_FILES) {
    const path = `${DEMO_FOLDER}/${name}`;
    if (!emulator.entry(accountId, path)) emulator.addFile(accountId, path, { size });
  }
  const photo = `${DEMO_FOLDER}/Photos/IMG_0001.jpg`;
  if (!emulator.entry(accountId, photo)) emulator.addFile(accountId, photo, { size: 3_145_728 });
  const app = emulator.registerApp({ appKey: DEMO_APP_KEY, redirectUris: options.redirectUris ?? [] });
  return {
    refreshToken: emulator.grantOffline(app.appKey, accountId, { pkce: true }),
    appKey: app.appKey,
    appSecret: app.appSecret,
    accountId,
    email: DEMO_EMAIL,
    folderPath: DEMO_FOLDER,
  };
}
