import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { type DropboxEmulator, startDropboxEmulator } from '../../src/dev/dropboxEmulator/index';
import { eventually } from '../support/eventually';

interface Received {
  at: number;
  body: string;
  signature: string | undefined;
}

/** A webhook receiver whose answers a test scripts: echo challenges, then answer POSTs as told. */
class Receiver {
  readonly posts: Received[] = [];
  echoChallenge = true;
  /** Called for each POST; the default answers 200 at once. */
  answer: (res: ServerResponse, n: number) => void = (res) => res.end();
  private server: Server = createServer((req, res) => this.handle(req, res));
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      if (req.method === 'GET') {
        res.setHeader('Content-Type', 'text/plain');
        res.end(this.echoChallenge ? (url.searchParams.get('challenge') ?? '') : 'hello');
        return;
      }
      const signature = req.headers['x-dropbox-signature'];
      this.posts.push({ at: Date.now(), body: Buffer.concat(chunks).toString('utf8'), signature: signature as string });
      this.answer(res, this.posts.length);
    });
  }
}

const SECRET = 'emulated-app-secret';
const sign = (body: string) => createHmac('sha256', SECRET).update(body).digest('hex');

describe('Dropbox emulator webhooks', () => {
  let emu: DropboxEmulator;
  let receiver: Receiver;

  before(async () => {
    emu = await startDropboxEmulator();
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(async () => {
    emu.reset();
    receiver = new Receiver();
    await receiver.start();
  });
  afterEach(async () => {
    emu.reset();
    await receiver.close();
  });

  it('registers a URI that echoes the challenge and refuses one that does not', async () => {
    receiver.echoChallenge = false;
    await assert.rejects(
      emu.registerWebhook({ appKey: 'app1', appSecret: SECRET, uri: receiver.url }),
      /did not echo the challenge/u,
    );
    const refused = await fetch(`${emu.url}/_control/webhooks`, {
      method: 'POST',
      body: JSON.stringify({ appKey: 'app1', appSecret: SECRET, uri: receiver.url }),
    });
    assert.equal(refused.status, 400);
    const account = emu.addAccount({ email: 'ann@example.com' });
    emu.addFile(account.accountId, '/a.pdf');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.posts.length, 0, 'no notification to a refused URI');

    receiver.echoChallenge = true;
    const registered = await fetch(`${emu.url}/_control/webhooks`, {
      method: 'POST',
      body: JSON.stringify({ appKey: 'app1', appSecret: SECRET, uri: receiver.url }),
    });
    assert.equal(registered.status, 201);
    emu.addFile(account.accountId, '/b.pdf');
    await eventually(() => assert.equal(receiver.posts.length, 1));
  });

  it('batches changes to several accounts into one signed notification naming them', async () => {
    await emu.registerWebhook({ appKey: 'app1', appSecret: SECRET, uri: receiver.url });
    const ann = emu.addAccount({ email: 'ann@example.com' });
    const bob = emu.addAccount({ email: 'bob@example.com' });
    emu.addFile(ann.accountId, '/Site/a.pdf');
    emu.modifyFile(ann.accountId, '/Site/a.pdf');
    emu.move(ann.accountId, '/Site/a.pdf', '/Site/b.pdf');
    emu.remove(ann.accountId, '/Site/b.pdf');
    emu.bulkAddFiles(bob.accountId, '/Other', 10);
    await eventually(() => assert.equal(receiver.posts.length, 1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.posts.length, 1, 'one notification for the batch');
    const [post] = receiver.posts as [Received];
    assert.equal(post.signature, sign(post.body));
    const body = JSON.parse(post.body) as { list_folder: { accounts: string[] }; delta: { users: number[] } };
    assert.deepEqual(body.list_folder.accounts.sort(), [ann.accountId, bob.accountId].sort());
    assert.equal(body.delta.users.length, 2);
    assert.ok(body.delta.users.every((u) => Number.isInteger(u)));
    assert.deepEqual(emu.webhookCounts(), {
      notifications: 1,
      attempts: 1,
      delivered: 1,
      failedAttempts: 0,
      abandoned: 0,
    });
    const overHttp = await fetch(`${emu.url}/_control/webhooks`);
    assert.equal(((await overHttp.json()) as { delivered: number }).delivered, 1);
  });

  it('retries with growing delays when the receiver fails or is slow, then delivers', async () => {
    await emu.registerWebhook({ appKey: 'app1', appSecret: SECRET, uri: receiver.url });
    emu.setWebhookSettings({ retryBaseMs: 100, timeoutMs: 300 });
    receiver.answer = (res, n) => {
      if (n === 1) res.writeHead(500).end();
      else if (n === 2) setTimeout(() => res.end(), 1_000).unref();
      else res.end();
    };
    const ann = emu.addAccount({ email: 'ann@example.com' });
    emu.addFile(ann.accountId, '/a.pdf');
    await eventually(() => assert.equal(emu.webhookCounts().delivered, 1));
    assert.equal(receiver.posts.length, 3);
    const [first, second, third] = receiver.posts as [Received, Received, Received];
    assert.equal(second.body, first.body, 'the same notification again');
    assert.equal(third.signature, first.signature);
    // 500 at once, retry after 100 ms; that one times out at 300 ms, retry after 200 ms.
    assert.ok(second.at - first.at >= 90, `first retry after ${second.at - first.at} ms`);
    assert.ok(third.at - second.at >= 480, `second retry after ${third.at - second.at} ms`);
    assert.deepEqual(emu.webhookCounts(), {
      notifications: 1,
      attempts: 3,
      delivered: 1,
      failedAttempts: 2,
      abandoned: 0,
    });
  });

  it('gives a notification up after its last attempt and sends nothing more', async () => {
    await emu.registerWebhook({ appKey: 'app1', appSecret: SECRET, uri: receiver.url });
    emu.setWebhookSettings({ retryBaseMs: 20, maxAttempts: 4 });
    receiver.answer = (res) => res.writeHead(503).end();
    const ann = emu.addAccount({ email: 'ann@example.com' });
    emu.addFile(ann.accountId, '/a.pdf');
    await eventually(() => assert.equal(emu.webhookCounts().abandoned, 1));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.posts.length, 4);
    assert.deepEqual(emu.webhookCounts(), {
      notifications: 1,
      attempts: 4,
      delivered: 0,
      failedAttempts: 4,
      abandoned: 1,
    });
  });

  it('starts its counts at zero after a reset that cuts off a notification on its way', async () => {
    let hold: ServerResponse | undefined;
    receiver.answer = (res) => {
      hold = res;
    };
    await emu.registerWebhook({ appKey: 'app1', appSecret: SECRET, uri: receiver.url });
    const ann = emu.addAccount({ email: 'ann@example.com' });
    emu.addFile(ann.accountId, '/a.pdf');
    await eventually(() => assert.equal(receiver.posts.length, 1));
    emu.reset();
    await new Promise((resolve) => setTimeout(resolve, 200));
    hold?.end();
    assert.deepEqual(emu.webhookCounts(), { notifications: 0, attempts: 0, delivered: 0, failedAttempts: 0, abandoned: 0 });
  });

  it('notifies every registered URI, each signed with its own app secret', async () => {
    const other = new Receiver();
    await other.start();
    try {
      await emu.registerWebhook({ appKey: 'app1', appSecret: SECRET, uri: receiver.url });
      await emu.registerWebhook({ appKey: 'app2', appSecret: 'another-secret', uri: other.url });
      await assert.rejects(
        emu.registerWebhook({ appKey: 'app2', appSecret: 'a-third-secret', uri: receiver.url }),
        /another secret/u,
      );
      const ann = emu.addAccount({ email: 'ann@example.com' });
      emu.addFolder(ann.accountId, '/New');
      await eventually(() => assert.equal(emu.webhookCounts().delivered, 2));
      const [mine] = receiver.posts as [Received];
      const [theirs] = other.posts as [Received];
      assert.equal(mine.signature, sign(mine.body));
      assert.equal(theirs.signature, createHmac('sha256', 'another-secret').update(theirs.body).digest('hex'));
    } finally {
      await other.close();
    }
  });
});
