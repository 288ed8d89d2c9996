/**
 * An emulated Dropbox account connected to a project as the API leaves it after a login: the
 * account's email as the client identification, its token sealed in a connection. Shared by the
 * sync fixture, the fault harness and the benchmark, so that all three seed what the API writes.
 */
import { newId } from '../../src/db/ids';
import type { Repositories } from '../../src/db/repositories';
import type { Connection } from '../../src/domain/types';
import type { TokenCipher } from '../../src/security/tokenCipher';
import type { AccountInput, DropboxEmulator, TokenOptions } from '../../src/dev/dropboxEmulator/index';

export interface ConnectedAccount {
  accountId: string;
  email: string;
  connection: Connection;
  /** The token the connection holds now. */
  readonly token: string;
  /** Seals a token into the connection, as the API does when an admin replaces it. */
  replaceToken(next: string): Promise<void>;
}

export async function connectAccount(
  deps: { emulator: DropboxEmulator; repos: Repositories; cipher: TokenCipher },
  projectId: string,
  account: AccountInput,
  tokenOptions?: TokenOptions,
): Promise<ConnectedAccount> {
  const { emulator, repos, cipher } = deps;
  const { email } = account;
  const { accountId } = emulator.addAccount(account);
  let token = emulator.issueToken(accountId, tokenOptions);
  // Sealed to its connection, as the API seals it.
  const id = newId();
  const connection = await repos.connections.create({
    id,
    projectId,
    clientIdentification: email,
    accountId,
    accountEmail: email,
    token: cipher.seal(token, { connectionId: id }),
  });
  return {
    accountId,
    email,
    connection,
    get token() {
      return token;
    },
    async replaceToken(next) {
      await repos.connections.replaceToken(connection._id, cipher.seal(next, { connectionId: id }), { accountId, accountEmail: email });
      token = next;
    },
  };
}
