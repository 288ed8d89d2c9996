/**
 * The workflow's own logic on the time-skipping server, with activities passed as plain objects
 * over an in-memory folder: timers, signals, states, continue-as-new. The same workflow over the
 * real activities, FerretDB and the Dropbox emulator is in folderSyncWorkflow.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { pairWorkers } from '../../src/worker';
import { LISTING_PAGE_SLOTS } from '../../src/db/listingPagesRepository';
import { workflowBundleOptions } from '../../src/workflowBundle';
import type { Activities } from '../../src/activities';
import { cycleReportSinks } from '../../src/cycleReportSinks';
import { FailureTypes } from '../../src/domain/failureTypes';
import { silentLogger } from '../../src/log';
import { cycles, cycleStartLag } from '../../src/metrics';
import { runShortening } from '../../src/domain/runStagger';
import type { ListFolderInput } from '../../src/activities/listFolder';
import type { PersistInput } from '../../src/activities/persistNewFiles';
import type { CopyContentsInput } from '../../src/activities/copyFileContents';
import type { RejectInput } from '../../src/activities/rejectSpecialCharacterPaths';
import type { ListedFile, ListingPageRef } from '../../src/domain/types';
import {
  SyncStateKey,
  credentialsUpdatedSignal,
  pauseSignal,
  resumeSignal,
  statusQuery,
  syncNowSignal,
  unmapSignal,
  type FolderSyncStatus,
} from '../../src/workflows/definitions';
import { folderSyncWorkflow } from '../../src/workflows';
import { DEFAULT_CYCLES_PER_RUN } from '../../src/workflows/folderSyncWorkflow';
import { historyText } from '../api/histories';
import { createTimeSkippingEnv, TIME_SKIPPING_TEST } from '../support/servers';
import { eventually } from '../support/eventually';

/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED (the proto package is not a dependency). */
const PENDING_ACTIVITY_STARTED = 2;
import { untilSettled, whenSettled, whenWaitingOnTimer } from '../support/timerWait';

const MINUTE = 60_000;

/** A folder held in memory, listed in pages of `pageSize`, with a cursor "<generation>:<offset>". */
class FakeFolder {
  files: ListedFile[] = [];
  generation = 1;
  tokenGood = true;
  resetNext = false;
  /** The worker's listing policy, as its token check reports it. */
  listingPolicy = 'policy-a';
  /** The next kept pages are gone before they are checked, as if a later listing had replaced them. */
  losePages = 0;
  persistDelayMs = 0;
  /** Recordings of pages wait for this. */
  persistGate: Promise<void> | undefined;
  /** The listing generation of every recording, in order. */
  generationsSeen: number[] = [];
  /** Contents copies wait for this before they return. */
  copyGate: Promise<void> | undefined;
  /** Listings wait for this before they answer. */
  listGate: Promise<void> | undefined;
  /** The first listing alone waits for this (and, as a Dropbox call, ignores a cancellation). */
  firstListGate: Promise<void> | undefined;
  /** The next listing from this offset fails, as Dropbox failing mid-listing. */
  failListingFrom: number | undefined;
  /** The failure type of that listing. */
  failListingWith = 'DropboxUnavailable';
  /** The next recording writes its page, then its answer is lost (the activity fails and is retried). */
  loseRecordingAnswer = false;
  /** The next recording writes its page, then fails for good. */
  failRecordingAfterWrite = false;
  /** Each kept page's listing time, and each copy's `recordedSince`, in order. */
  listedAts: number[] = [];
  copiesSince: (number | undefined)[] = [];
  /** Records of this state wait for `recordGate`. */
  recordGateFor: string | undefined;
  recordGate: Promise<void> | undefined;
  calls = { validateToken: 0, listFolder: 0, persistNewFiles: 0, reject: 0, copies: 0, record: [] as string[] };
  cursorsSeen: (string | undefined)[] = [];
  slotsUsed: (number | undefined)[] = [];
  /** What happened, in order: listings, and each page's recording start and end. */
  timeline: string[] = [];
  persisted = new Map<string, ListedFile>();
  kept = new Map<string, { pageId: string; files: ListedFile[] }>();
  sweeps = 0;
  firstListingPages = 0;
  private pages = 0;

  constructor(private readonly pageSize = 3) {}

  add(name: string): void {
    const id = `id:${this.files.length + 1}`;
    this.files.push({ id, name, pathDisplay: `/F/${name}`, pathLower: `/f/${name.toLowerCase()}`, rev: 'r1', size: 1, serverModified: '2026-01-01T00:00:00Z' });
  }

  activities(): Activities {
    return this.activitiesOf(this);
  }

  private keptPage(mappingId: string, ref: ListingPageRef): ListedFile[] | undefined {
    const page = this.kept.get(`${mappingId}:${ref.slot}`);
    return page?.pageId === ref.pageId ? page.files : undefined;
  }

  private activitiesOf(self: FakeFolder): Activities {
    const missing = () => ApplicationFailure.nonRetryable('page gone', FailureTypes.listingPageMissing);
    return {
      async validateToken() {
        self.calls.validateToken += 1;
        if (!self.tokenGood) {
          throw ApplicationFailure.nonRetryable('The Dropbox access token has expired', FailureTypes.credentialsRejected);
        }
        return { accountId: 'dbid:1', listingPolicy: self.listingPolicy };
      },
      async listFolder({ mappingId, cursor, keepInSlot }: ListFolderInput) {
        self.calls.listFolder += 1;
        if (self.calls.listFolder === 1) await self.firstListGate;
        await self.listGate;
        self.cursorsSeen.push(cursor);
        self.slotsUsed.push(keepInSlot);
        if (cursor && self.resetNext) {
          self.resetNext = false;
          throw ApplicationFailure.nonRetryable('reset', FailureTypes.cursorReset);
        }
        const offset = cursor ? Number(cursor.split(':')[1]) : 0;
        if (offset === self.failListingFrom) {
          self.failListingFrom = undefined;
          throw ApplicationFailure.nonRetryable('Dropbox failed mid-listing', self.failListingWith);
        }
        const files = self.files.slice(offset, offset + self.pageSize);
        const end = offset + files.length;
        self.timeline.push(`list ${end}`);
        const page = { cursor: `${self.generation}:${end}`, hasMore: end < self.files.length };
        const counts = { files: files.length, folders: 0, deletedPaths: 0 };
        if (files.length === 0) return { ...page, counts };
        const pageId = `page-${++self.pages}`;
        self.kept.set(`${mappingId}:${keepInSlot}`, { pageId: self.losePages > 0 ? 'lost' : pageId, files });
        self.losePages = Math.max(0, self.losePages - 1);
        const listedAt = Date.now();
        self.listedAts.push(listedAt);
        return { ...page, counts, page: { slot: keepInSlot, pageId, listedAt } };
      },
      async rejectSpecialCharacterPaths({ mappingId, page }: RejectInput) {
        self.calls.reject += 1;
        const names = self.keptPage(mappingId, page);
        if (!names) throw missing();
        return { rejectedFileIds: names.filter((f) => f.name.includes('#')).map((f) => f.id), skippedFolders: 0 };
      },
      async persistNewFiles({ mappingId, page, rejectedFileIds, sweep, endsListing, firstListing, listingGeneration }: PersistInput) {
        self.calls.persistNewFiles += 1;
        self.generationsSeen.push(listingGeneration);
        const tag = page?.pageId ?? 'sweep';
        self.timeline.push(`record ${tag}`);
        if (self.persistDelayMs) await new Promise((r) => setTimeout(r, self.persistDelayMs));
        await self.persistGate;
        let listed: ListedFile[] = [];
        if (page) {
          const kept = self.keptPage(mappingId, page);
          // As the product: the listing's last page gone means an earlier attempt recorded it.
          if (!kept && endsListing) return { added: 0, updated: 0, unchanged: 0, deleted: 0 };
          if (!kept) throw missing();
          listed = kept.filter((f) => !rejectedFileIds?.includes(f.id));
          if (endsListing) for (const slot of LISTING_PAGE_SLOTS) self.kept.delete(`${mappingId}:${slot}`);
        }
        if (sweep) self.sweeps += 1;
        if (firstListing) self.firstListingPages += 1;
        let added = 0;
        for (const f of listed) {
          if (!self.persisted.has(f.id)) added += 1;
          self.persisted.set(f.id, f);
        }
        self.timeline.push(`recorded ${tag}`);
        if (self.loseRecordingAnswer) {
          self.loseRecordingAnswer = false;
          throw ApplicationFailure.retryable('the answer was lost after the write');
        }
        if (self.failRecordingAfterWrite) {
          self.failRecordingAfterWrite = false;
          throw ApplicationFailure.nonRetryable('the database failed after the write');
        }
        return { added, updated: 0, unchanged: listed.length - added, deleted: 0 };
      },
      async recordMappingState({ state }: { state: string }) {
        self.calls.record.push(state);
        if (state === self.recordGateFor) await self.recordGate;
      },
      async copyFileContents({ recordedSince }: CopyContentsInput) {
        self.calls.copies += 1;
        self.copiesSince.push(recordedSince);
        await self.copyGate;
        return { stored: 0, failed: 0, pending: 0, missingScope: false };
      },
    } as unknown as Activities;
  }
}

describe('folderSyncWorkflow logic (time-skipping server, in-memory activities)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  let n = 0;

  before(async () => {
    env = await createTimeSkippingEnv();
    bundle = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: quietLogger });
  });
  after(async () => {
    await env?.teardown();
  });

  async function withWorker<T>(
    folder: FakeFolder,
    fn: (taskQueue: string) => Promise<T>,
    cyclesWorker: { maxConcurrentActivityTaskExecutions?: number } = {},
  ): Promise<T> {
    const taskQueue = `logic-${++n}-${Date.now()}`;
    const worker = await pairWorkers(
      {
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        activities: folder.activities(),
        sinks: cycleReportSinks(silentLogger),
        ...cyclesWorker,
      },
      2,
    );
    const running = worker.run();
    try {
      return await fn(taskQueue);
    } finally {
      worker.shutdown();
      await running;
    }
  }

  async function start(taskQueue: string, extra: Record<string, unknown> = {}, options: { workflowTaskTimeout?: string } = {}) {
    // A staggered first run can end after one cycle, and the test server may hang a query that
    // meets its continue-as-new; the tests of the stagger and of run lengths choose their ids.
    const mappingId = idShortenedBy(0, DEFAULT_CYCLES_PER_RUN, `m${n}-`);
    return env.client.workflow.start(folderSyncWorkflow, {
      ...options,
      taskQueue,
      workflowId: `folder-sync-logic-${n}-${Date.now()}`,
      args: [{ mappingId, projectId: 'p1', dropboxPath: '/F', pollIntervalMs: 5 * MINUTE, ...extra }],
    });
  }

  // Runs continue as new within these tests (a stagger can end a run after one cycle), and the
  // test server may hang a query that meets one.
  const status = (handle: WorkflowHandle): Promise<FolderSyncStatus> => whenSettled(handle, () => handle.query(statusQuery));
  const pick = ({ counters, runs, phase }: FolderSyncStatus) => ({ cycles: counters.cycles, runs, phase });

  /** A mapping id whose first run ends `shortening` cycles early (runShortening). */
  function idShortenedBy(shortening: number, cyclesPerRun: number, prefix = 'm-stagger-'): string {
    for (let i = 0; ; i++) if (runShortening(`${prefix}${i}`, cyclesPerRun) === shortening) return `${prefix}${i}`;
  }

  it('syncs at once, then not again until five simulated minutes have passed', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      assert.equal(folder.persisted.size, 1);
      folder.add('b.pdf');
      await env.sleep(4 * MINUTE + 50_000);
      assert.equal((await status(handle)).counters.cycles, 1, 'no cycle before the interval');
      assert.equal(folder.persisted.size, 1);
      await env.sleep(20_000);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 2));
      assert.equal(folder.persisted.size, 2);
      const s = await status(handle);
      assert.equal(s.state, 'active');
      assert.ok(s.nextSyncAt, 'waiting shows when the next sync is due');
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('pause stops cycles for as long as it lasts; resume syncs at once', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      await handle.signal(pauseSignal);
      await eventually(async () => assert.equal((await status(handle)).state, 'paused'));
      const listed = folder.calls.listFolder;
      await env.sleep(30 * MINUTE);
      assert.equal(folder.calls.listFolder, listed, 'no Dropbox listing while paused');
      const described = await handle.describe();
      assert.deepEqual(described.typedSearchAttributes.get(SyncStateKey), 'paused');
      await handle.signal(resumeSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 2));
      assert.equal((await status(handle)).state, 'active');
      assert.ok(folder.calls.record.includes('paused'), 'the paused state reached MongoDB');
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('syncNow runs a cycle without waiting for the timer', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      folder.add('new.pdf');
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 2));
      assert.equal(folder.persisted.size, 1);
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('unmap ends the workflow cleanly and records the state unmapped', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      const result = await handle.result();
      assert.equal(result.state, 'unmapped');
      assert.equal(folder.calls.record.at(-1), 'unmapped');
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
    });
  });

  it('a rejected token leads to needs_credentials, one validation per interval, and recovery on credentialsUpdated', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    folder.tokenGood = false;
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).state, 'needs_credentials'));
      assert.match((await status(handle)).lastError ?? '', /expired/u);
      const before = folder.calls.validateToken;
      await env.sleep(30 * MINUTE + 10_000);
      const during = folder.calls.validateToken - before;
      assert.ok(during >= 5 && during <= 6, `one validation per interval while waiting, saw ${during}`);
      // Each of those was a timer's cycle, reported to the worker's metrics (no other test here fails so).
      await eventually(async () => {
        const failed = (await cycles.get()).values.find((v) => v.labels.outcome === FailureTypes.credentialsRejected);
        assert.ok((failed?.value ?? 0) >= during, `cycles counted as ${FailureTypes.credentialsRejected}: ${failed?.value}`);
        const lag = (await cycleStartLag.get()).values.find((v) => v.metricName === 'dropbox_sync_cycle_start_lag_seconds_count');
        assert.ok((lag?.value ?? 0) >= during - 1, `timer cycles measured: ${lag?.value}`);
      });
      assert.equal(folder.calls.listFolder, 0, 'no listing without credentials');
      folder.tokenGood = true;
      await handle.signal(credentialsUpdatedSignal);
      await eventually(async () => assert.equal((await status(handle)).state, 'active'));
      await eventually(async () => assert.equal(folder.persisted.size, 1));
      assert.equal((await status(handle)).lastError, null);
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('continues as new mid-listing, once the listing\'s activities have grown the history, carrying the cursor and counters, with no duplicate', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder(2);
    // One name of each page refused: a page listed ahead of a cut is checked twice, counted once.
    for (let i = 0; i < 40; i += 1) folder.add(i % 2 === 0 ? `f${i}.pdf` : `f#${i}.pdf`);
    folder.persistDelayMs = 50;
    await withWorker(folder, async (tq) => {
      const handle = await start(tq, { continueAsNewAfterEvents: 40 });
      await eventually(async () => assert.equal(folder.persisted.size, 20), 30_000);
      await eventually(async () =>
        assert.equal((await whenWaitingOnTimer(handle, () => handle.query(statusQuery))).counters.cycles, 1),
      );
      const s = await status(handle);
      // At least once mid-listing; the contents copy after the listing adds its events once the
      // run already waits, so the run that ends the listing need not continue as new as well.
      assert.ok(s.runs >= 1, `continued as new (${s.runs} runs)`);
      assert.equal(s.counters.filesAdded, 20, 'counters carried across runs');
      assert.equal(s.counters.rejections, 20, 'each refused name counted once');
      // A page listed ahead when a run continues as new is listed again by the next run.
      assert.ok(s.counters.dropboxPages >= 20 && s.counters.dropboxPages <= 20 + s.runs, `${s.counters.dropboxPages} pages listed`);
      const firstPages = folder.cursorsSeen.filter((c) => c === undefined).length;
      assert.equal(firstPages, 1, 'the listing never restarted from the beginning');
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('ends a run after cyclesPerRun cycles, carrying the cursor, counters and timing, writing nothing for it', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      const handle = await start(tq, { cyclesPerRun: 2, newMapping: true, mappingId: idShortenedBy(0, 2) });
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      folder.add('b.pdf');
      await env.sleep(5 * MINUTE + 10_000);
      await eventually(async () => assert.equal((await status(handle)).runs, 1, 'a new run after two cycles'));
      const carried = await status(handle);
      assert.equal(carried.counters.cycles, 2);
      assert.equal(carried.counters.filesAdded, 2);
      assert.equal(carried.cursorSaved, true);
      // The new run waits a whole interval, as the old one would have, and lists from the cursor.
      await env.sleep(4 * MINUTE);
      assert.equal((await status(handle)).counters.cycles, 2, 'no cycle before the interval');
      folder.add('c.pdf');
      await env.sleep(MINUTE + 10_000);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 3));
      assert.equal(folder.cursorsSeen.filter((c) => c === undefined).length, 1, 'never listed from the start again');
      assert.equal(folder.persisted.size, 3);
      // A cycle that changed files records the state; the new run itself writes nothing.
      assert.deepEqual(folder.calls.record, ['active', 'active', 'active']);
      await env.sleep(5 * MINUTE + 10_000);
      await eventually(async () => assert.equal((await status(handle)).runs, 2));
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('ends the mapping on an unmap that comes while a run records its state before continuing as new', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    let releaseListing = () => {};
    folder.listGate = new Promise((resolve) => (releaseListing = resolve));
    let releaseRecord = () => {};
    folder.recordGateFor = 'paused';
    folder.recordGate = new Promise((resolve) => (releaseRecord = resolve));
    await withWorker(folder, async (tq) => {
      // One cycle a run: the run ends after its first cycle, which a pause interrupts.
      const handle = await start(tq, { cyclesPerRun: 1, newMapping: true, mappingId: idShortenedBy(0, 1) });
      await eventually(async () => assert.equal(folder.calls.listFolder, 1));
      await handle.signal(pauseSignal);
      // The run, ending, records the pause; the unmap comes while that record is under way.
      await eventually(async () => assert.ok(folder.calls.record.includes('paused')));
      await handle.signal(unmapSignal);
      releaseRecord();
      releaseListing();
      const result = await handle.result();
      assert.equal(result.state, 'unmapped');
      assert.equal(folder.calls.record.at(-1), 'unmapped');
    });
  });

  it('a run due to continue as new serves cycles while its contents copy runs (on a queue of its own, taking no slot of the cycles), and continues as new once the copy ends', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    let endCopy = () => {};
    folder.copyGate = new Promise<void>((resolve) => (endCopy = resolve));
    // One activity at a time on the cycles' queue: a copy there would stop every cycle.
    await withWorker(
      folder,
      async (tq) => {
        const handle = await start(tq, { cyclesPerRun: 2, newMapping: true, mappingId: idShortenedBy(0, 2) });
        // Queried directly: `status` waits for no activity to run, and the copy runs throughout.
        // No continue-as-new meets these queries: the run cannot end before the copy does.
        const now = async () => pick(await handle.query(statusQuery));
        await eventually(async () => assert.equal(folder.calls.copies, 1, 'the first cycle recorded a file: its copy runs'));
        await eventually(async () => assert.deepEqual(await now(), { cycles: 1, runs: 0, phase: 'waiting' }));
        await handle.signal(syncNowSignal);
        await eventually(async () => assert.deepEqual(await now(), { cycles: 2, runs: 0, phase: 'waiting' }));
        // The run is full now, and its copy still runs: a webhook's cycle does not wait for it.
        await handle.signal(syncNowSignal);
        await eventually(async () => assert.deepEqual(await now(), { cycles: 3, runs: 0, phase: 'waiting' }));
        assert.equal(folder.calls.copies, 1, 'a run due to continue as new starts no further copy');
        const due = (await handle.query(statusQuery)).nextSyncAt;
        assert.ok(due);
        endCopy();
        await eventually(async () => assert.equal((await status(handle)).runs, 1, 'a new run once the copy ended'));
        assert.equal((await status(handle)).counters.cycles, 3);
        // The new run waits for what remained of the interval, not for a whole one more.
        assert.equal((await status(handle)).nextSyncAt, due);
        await untilSettled(handle);
        await handle.signal(unmapSignal);
        await handle.result();
      },
      { maxConcurrentActivityTaskExecutions: 1 },
    );
  });

  it('waits for a cancelled recording to end before recording the pause, so the pause is the state that stays', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    let releasePersist = () => {};
    folder.persistGate = new Promise((resolve) => (releasePersist = resolve));
    await withWorker(folder, async (tq) => {
      const handle = await start(tq, { newMapping: true });
      await eventually(async () => assert.ok(folder.timeline.includes('record page-1')));
      await handle.signal(pauseSignal);
      await eventually(async () => assert.equal((await handle.query(statusQuery)).state, 'paused'));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.ok(!folder.calls.record.includes('paused'), 'no state recorded while the page is still being recorded');
      releasePersist();
      await eventually(async () => assert.equal(folder.calls.record.at(-1), 'paused'));
      assert.ok(folder.timeline.includes('recorded page-1'));
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('a run started again for a mapping (its run was terminated) keeps its pause, and lists under a generation above every earlier one', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      const first = await start(tq, { newMapping: true });
      await eventually(async () => assert.equal((await status(first)).counters.cycles, 1));
      const firstGeneration = Math.max(...folder.generationsSeen);
      assert.equal(firstGeneration, 1);
      await first.terminate('an operator ended the run');
      // Started again by a signal (as the API does), its mapping recorded paused: it stays paused.
      const paused = await start(tq, { paused: true });
      await eventually(async () => assert.equal((await status(paused)).state, 'paused'));
      const listed = folder.calls.listFolder;
      await env.sleep(20 * MINUTE);
      assert.equal(folder.calls.listFolder, listed, 'no listing while paused');
      const copies = folder.copiesSince.length;
      await paused.signal(resumeSignal);
      await eventually(async () => assert.equal((await status(paused)).counters.cycles, 1));
      // It cannot know which records the terminated run left without content records: all of them.
      await eventually(async () => assert.equal(folder.copiesSince[copies], 0, JSON.stringify(folder.copiesSince)));
      // Its full listing's sweep must see past what the first run stamped its records with.
      assert.ok(Math.min(...folder.generationsSeen.slice(1)) > firstGeneration, JSON.stringify(folder.generationsSeen));
      await untilSettled(paused);
      await paused.signal(unmapSignal);
      await paused.result();
    });
  });

  it('ends one run of a mapping early, by its stagger, so that mappings started together spread their continue-as-new', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      // Shortened by 2 of 3: the first run ends after one cycle, every later run after three.
      const handle = await start(tq, { cyclesPerRun: 3, newMapping: true, mappingId: idShortenedBy(2, 3) });
      await eventually(async () => assert.deepEqual(pick(await status(handle)), { cycles: 1, runs: 1, phase: 'waiting' }));
      for (const cycles of [2, 3]) {
        await env.sleep(5 * MINUTE + 10_000);
        await eventually(async () => assert.deepEqual(pick(await status(handle)), { cycles, runs: 1, phase: 'waiting' }));
      }
      await env.sleep(5 * MINUTE + 10_000);
      await eventually(async () => assert.deepEqual(pick(await status(handle)), { cycles: 4, runs: 2, phase: 'waiting' }));
      assert.equal(folder.persisted.size, 1);
      assert.equal(folder.cursorsSeen.filter((c) => c === undefined).length, 1, 'never listed from the start again');
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('a new mapping skips the sweep of its first listing (nothing is recorded yet), not of a relisting', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      const handle = await start(tq, { newMapping: true });
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      assert.equal(folder.sweeps, 0, 'first listing of a new mapping: no sweep');
      assert.equal(folder.firstListingPages, 1, 'and no earlier rejection to look for');
      assert.deepEqual(folder.calls.record, ['active'], 'no state written at start: the API has just recorded it');
      assert.equal(folder.persisted.size, 1);
      folder.resetNext = true;
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 2));
      assert.equal(folder.sweeps, 1, 'the relisting ended with a sweep');
      assert.equal(folder.firstListingPages, 1, 'a relisting is not a first listing');
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('a reset cursor lists the folder again from the start and sweeps at its end', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      assert.equal(folder.sweeps, 1);
      folder.resetNext = true;
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 2));
      assert.equal(folder.sweeps, 2, 'the relisting ended with a sweep');
      assert.equal(folder.cursorsSeen.filter((c) => c === undefined).length, 2);
      assert.equal(folder.persisted.size, 1);
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('lists the folder again from the start, and sweeps, once a worker reports another listing policy; not again under it', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 2));
      assert.deepEqual([folder.sweeps, folder.cursorsSeen.filter((c) => c === undefined).length], [1, 1], 'same policy: from the cursor');
      folder.listingPolicy = 'policy-b';
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 3));
      assert.deepEqual([folder.sweeps, folder.cursorsSeen.filter((c) => c === undefined).length], [2, 2], 'new policy: from the start');
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 4));
      assert.deepEqual([folder.sweeps, folder.cursorsSeen.filter((c) => c === undefined).length], [2, 2], 'then from the cursor again');
      assert.equal(folder.persisted.size, 1);
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('keeps listed pages out of the history, recording while the next pages are listed', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder(2);
    for (let i = 0; i < 10; i += 1) folder.add(`kept-${i}.pdf`);
    folder.persistDelayMs = 300;
    const mostAtOnce = (t: string[]) => {
      let open = 0;
      let most = 0;
      for (const step of t) {
        if (step.startsWith('record ')) open += 1;
        if (step.startsWith('recorded ')) open -= 1;
        most = Math.max(most, open);
      }
      return most;
    };
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1), 30_000);
      assert.equal(folder.persisted.size, 10);
      assert.deepEqual(folder.slotsUsed.slice(0, 5), [0, 1, 2, 3, 0], 'pages rotate through four slots');
      const t = folder.timeline;
      assert.ok(t.indexOf('list 6') < t.indexOf('recorded page-1'), `page 3 listed while page 1 was recorded: ${t.join(', ')}`);
      assert.ok(t.indexOf('list 10') > t.indexOf('recorded page-1'), `page 5 takes page 1's slot once page 1 is recorded: ${t.join(', ')}`);
      assert.equal(mostAtOnce(t), 2, `a full listing records two pages at once: ${t.join(', ')}`);
      assert.equal(folder.kept.size, 0, 'the kept pages were dropped once the listing was recorded');
      const history = historyText(await handle.fetchHistory());
      assert.ok(history.includes('"pageId":"page-3"'), 'the history holds the page summaries');
      assert.ok(!history.includes('kept-3.pdf'), 'and no file name');

      // Changes since the cursor: pages may delete what an earlier page records, so one at a time.
      folder.timeline = [];
      for (let i = 10; i < 16; i += 1) folder.add(`kept-${i}.pdf`);
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 2), 30_000);
      assert.equal(folder.persisted.size, 16);
      assert.equal(mostAtOnce(folder.timeline), 1, `changes are recorded one page at a time: ${folder.timeline.join(', ')}`);
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('runs every step as an activity shown by name in the history; an idle cycle is a token check and one listing', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder(2);
    for (let i = 0; i < 5; i += 1) folder.add(`named-${i}.pdf`);
    await withWorker(folder, async (tq) => {
      const handle = await start(tq, { newMapping: true });
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1), 30_000);
      const scheduledNames = async () =>
        ((await handle.fetchHistory()).events ?? [])
          .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
          .filter((name): name is string => Boolean(name));
      const first = await scheduledNames();
      assert.deepEqual(
        [...new Set(first)].sort(),
        ['copyFileContents', 'listFolder', 'persistNewFiles', 'recordMappingState', 'rejectSpecialCharacterPaths', 'validateToken'],
        'the first sync: the four activities, the time of a sync that changed files, and the contents copy',
      );
      assert.equal(folder.persisted.size, 5);
      const written = folder.calls.record.length;
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 2), 30_000);
      await untilSettled(handle);
      assert.deepEqual((await scheduledNames()).slice(first.length), ['validateToken', 'listFolder'], 'an idle cycle');
      assert.equal(folder.calls.record.length, written, 'and it writes nothing');
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('a kept page gone before it was checked ends the cycle with the error; the next cycle lists it again from the saved cursor', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder(2);
    for (let i = 0; i < 4; i += 1) folder.add(`f${i}.pdf`);
    folder.losePages = 1;
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.match((await status(handle)).lastError ?? '', /page gone/u));
      assert.equal(folder.persisted.size, 0);
      assert.equal((await status(handle)).cursorSaved, false, 'the cursor did not move past the lost page');
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.equal(folder.persisted.size, 4));
      await eventually(async () => assert.equal((await status(handle)).lastError, null));
      assert.equal(folder.cursorsSeen.filter((c) => c === undefined).length, 2, 'the first page listed once in each cycle');
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('copies the contents of files recorded by a cycle that failed later, without waiting for another change', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder(2);
    for (let i = 0; i < 4; i += 1) folder.add(`f${i}.pdf`);
    folder.failListingFrom = 2;
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.match((await status(handle)).lastError ?? '', /mid-listing/u));
      assert.equal(folder.persisted.size, 2, 'the first page was recorded before the failure');
      await eventually(async () => assert.ok(folder.calls.copies >= 1, 'a copy of what was recorded'));
      assert.equal((await status(handle)).counters.cycles, 0, 'before any good cycle');
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('copies the contents of a page whose recording wrote its files and lost its answer (the retry finds them unchanged)', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    folder.add('b.pdf');
    folder.loseRecordingAnswer = true;
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      assert.equal((await status(handle)).counters.filesAdded, 0, 'the retry found the files recorded');
      await eventually(async () => assert.ok(folder.calls.copies >= 1, 'their contents are copied'));
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it("hands a page's listing time to the next copy also when its recording wrote files and then failed", TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      await eventually(async () => assert.ok(folder.copiesSince.length >= 1));
      folder.add('b.pdf');
      folder.failRecordingAfterWrite = true;
      await handle.signal(syncNowSignal);
      await eventually(async () => assert.match((await status(handle)).lastError ?? '', /after the write/u));
      const failedPage = folder.listedAts.at(-1)!;
      await eventually(async () => assert.equal(folder.copiesSince.at(-1), failedPage, JSON.stringify(folder.copiesSince)));
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('keeps a pause that came while the cycle failed: the failure does not turn it into needs_credentials', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder(1);
    folder.add('a.pdf');
    folder.add('b.pdf');
    folder.failListingFrom = 1;
    folder.failListingWith = FailureTypes.credentialsRejected;
    let release!: () => void;
    folder.persistGate = new Promise<void>((resolve) => (release = resolve));
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      // Page 1 is being recorded; the listing of page 2 has failed meanwhile.
      await eventually(() => assert.ok(folder.timeline.includes('record page-1') && folder.cursorsSeen.length >= 2));
      // The pause comes once page 1's recording is the only activity, started: a pause that cancels
      // an activity the test server has scheduled and is just handing out can meet an SDK state
      // machine error on that server (ScheduledActivityCancelCommandCreated, then ActivityTaskStarted).
      await eventually(async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        assert.deepEqual(
          pending.map((a) => [a.activityType?.name, String(a.state)]),
          [['persistNewFiles', String(PENDING_ACTIVITY_STARTED)]],
        );
      });
      await handle.signal(pauseSignal);
      await eventually(async () => assert.equal((await handle.query(statusQuery)).state, 'paused'));
      release();
      await eventually(async () => assert.match((await handle.query(statusQuery)).lastError ?? '', /mid-listing/u));
      assert.equal((await handle.query(statusQuery)).state, 'paused');
      await eventually(async () => assert.ok(folder.timeline.includes('recorded page-1')));
      // Nothing is recorded between the start and the failed cycle's end: its record is the first
      // after 'active', so a failure that overwrote the pause would never show 'paused' here.
      await eventually(() => assert.equal(folder.calls.record.at(-1), 'paused', 'MongoDB shows the pause'));
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('a run due to continue as new but waiting for its copy lists a folder in one cycle, not one cycle (and token check) per page', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder(1);
    folder.add('a.pdf');
    let endCopy = () => {};
    folder.copyGate = new Promise<void>((resolve) => (endCopy = resolve));
    await withWorker(folder, async (tq) => {
      // History past the limit from the first cycle on: the run is due to continue as new.
      const handle = await start(tq, { newMapping: true, continueAsNewAfterEvents: 30 });
      await eventually(async () => assert.equal(folder.calls.copies, 1, 'the first cycle recorded a file: its copy runs'));
      for (let i = 0; i < 6; i += 1) folder.add(`new-${i}.pdf`);
      const checksBefore = folder.calls.validateToken;
      await handle.signal(syncNowSignal);
      await eventually(() => assert.equal(folder.persisted.size, 7));
      assert.equal(folder.calls.validateToken - checksBefore, 1, 'one cycle listed the six pages');
      endCopy();
      // Asked once the latest run has settled: the test server may hang a query that meets a continue-as-new.
      await eventually(async () => assert.ok((await status(handle)).runs >= 1, 'it continued as new once the copy ended'), 30_000);
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it("a listing of a cancelled cycle that lands late does not overwrite the page the next cycle keeps", TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('a.pdf');
    let releaseFirst = () => {};
    folder.firstListGate = new Promise<void>((resolve) => (releaseFirst = resolve));
    let releasePersist = () => {};
    folder.persistGate = new Promise<void>((resolve) => (releasePersist = resolve));
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(() => assert.equal(folder.calls.listFolder, 1));
      // Paused while Dropbox answers the first listing, resumed at once: the call goes on.
      await handle.signal(pauseSignal);
      await eventually(async () => assert.equal((await handle.query(statusQuery)).state, 'paused'));
      await handle.signal(resumeSignal);
      await eventually(() => assert.ok(folder.timeline.some((t) => t.startsWith('record '))));
      // The cancelled cycle's listing lands now, while the new cycle's page waits to be recorded.
      releaseFirst();
      await eventually(() => assert.equal(folder.timeline.filter((t) => t === 'list 1').length, 2));
      releasePersist();
      await eventually(async () => assert.equal((await handle.query(statusQuery)).counters.cycles, 1));
      assert.equal((await handle.query(statusQuery)).lastError, null);
      assert.equal(folder.persisted.size, 1);
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('counts the refused names of a page checked ahead of a pause once, when it is recorded after the resume', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder(1);
    folder.add('a.pdf');
    folder.add('b.pdf');
    folder.add('plan#3.pdf');
    let release = () => {};
    folder.persistGate = new Promise<void>((resolve) => (release = resolve));
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      // Pages 1 and 2 wait to be recorded while page 3 is listed and checked ahead; then a pause.
      await eventually(() => assert.ok(folder.timeline.includes('record page-1') && folder.calls.reject >= 3));
      await handle.signal(pauseSignal);
      await eventually(async () => assert.equal((await handle.query(statusQuery)).state, 'paused'));
      release();
      folder.persistGate = undefined;
      await handle.signal(resumeSignal);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      assert.ok(folder.calls.reject > 3, `page 3 checked again after the resume (${folder.calls.reject} checks)`);
      assert.equal((await status(handle)).counters.rejections, 1, 'the refused name counted once');
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });

  it('names with special characters are not persisted', TIME_SKIPPING_TEST, async () => {
    const folder = new FakeFolder();
    folder.add('ok.pdf');
    folder.add('plan#2.pdf');
    await withWorker(folder, async (tq) => {
      const handle = await start(tq);
      await eventually(async () => assert.equal((await status(handle)).counters.cycles, 1));
      assert.deepEqual([...folder.persisted.values()].map((f) => f.name), ['ok.pdf']);
      assert.equal((await status(handle)).counters.rejections, 1);
      await untilSettled(handle);
      await handle.signal(unmapSignal);
      await handle.result();
    });
  });
});

const quietLogger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
