/**
 * Identical create-mapping requests at the same moment: one mapping, one workflow; the others
 * are told the folder is already mapped and which mapping holds it. Different folders at the
 * same moment on one connection: every one mapped, no false conflicts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collections } from '../../src/db/collections';
import { folderSyncWorkflowId, MappingIdKey } from '../../src/workflows/definitions';
import { eventually } from '../support/eventually';
import {
  assertError,
  connect,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type ProjectAdmin,
} from '../api/fixtures';
import { type ApiAnswer, type ApiHarness, startApiHarness } from '../api/harness';

const CONCURRENT = 10;
const IDENTICAL_ROUNDS = 5;

describe('concurrent create-mapping requests', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let accountId: string;
  let connectionId: string;
  const figures: string[] = [];

  const create = (body: Record<string, unknown>) =>
    h.call('POST', `${dropboxBase(admin)}/mappings`, { key: admin.key, body });

  /** Fires all at once; the answers in order, and how far apart they arrived. */
  async function burst(
    bodies: Record<string, unknown>[],
  ): Promise<{ answers: ApiAnswer[]; spreadMs: number }> {
    const arrivals: number[] = [];
    const answers = await Promise.all(
      bodies.map(async (body) => {
        const answer = await create(body);
        arrivals.push(Date.now());
        return answer;
      }),
    );
    return { answers, spreadMs: Math.max(...arrivals) - Math.min(...arrivals) };
  }

  /** Every workflow execution (any status, every run) of the suite's task queue, by workflow id. */
  async function workflowsByMapping(): Promise<
    Map<string, { runs: number; running: number; mappingIds: string[] }>
  > {
    const found = new Map<string, { runs: number; running: number; mappingIds: string[] }>();
    for await (const info of h.temporal.workflow.list({ query: `TaskQueue = "${h.taskQueue}"` })) {
      const entry = found.get(info.workflowId) ?? { runs: 0, running: 0, mappingIds: [] };
      entry.runs += 1;
      if (info.status.name === 'RUNNING') entry.running += 1;
      const mappingId = info.typedSearchAttributes.get(MappingIdKey);
      if (mappingId !== undefined) entry.mappingIds.push(mappingId);
      found.set(info.workflowId, entry);
    }
    return found;
  }

  /** Waits until visibility shows `expected` workflows, then checks a moment later that no more came. */
  async function settledWorkflows(expected: number) {
    await eventually(async () => assert.equal((await workflowsByMapping()).size, expected), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return workflowsByMapping();
  }

  const statusCounts = (answers: ApiAnswer[]) => {
    const counts: Record<number, number> = {};
    for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
    return Object.entries(counts)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
  };

  before(async () => {
    h = await startApiHarness();
    admin = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    accountId = account.accountId;
    connectionId = await connect(h, admin, account);
  });

  after(async () => {
    await h?.close();
    if (figures.length > 0) console.log(figures.join('\n'));
  });

  it(`${CONCURRENT} identical creates at once, ${IDENTICAL_ROUNDS} times: one 201, the rest 409 already_mapped naming it; one mapping, one workflow`, async () => {
    const started = Date.now();
    const winners: string[] = [];
    for (let round = 0; round < IDENTICAL_ROUNDS; round++) {
      const folder = `/Race ${round}`;
      h.emulator.addFolder(accountId, folder);
      const { answers, spreadMs } = await burst(
        Array.from({ length: CONCURRENT }, () => ({ connectionId, dropboxPath: folder })),
      );
      const created = answers.filter((a) => a.status === 201);
      assert.equal(created.length, 1, `round ${round}: ${statusCounts(answers)}`);
      const mappingId = created[0]!.body.id as string;
      assert.equal(created[0]!.body.workflowId, folderSyncWorkflowId(mappingId));
      for (const answer of answers.filter((a) => a !== created[0])) {
        assertError(answer, 409, 'already_mapped');
        assert.equal(answer.body.error.details?.mappingId, mappingId, answer.text);
      }
      const stored = await collections(h.db)
        .mappings.find({ dropboxPathLower: folder.toLowerCase() })
        .toArray();
      assert.deepEqual(
        stored.map((m) => m._id),
        [mappingId],
        `round ${round}: one mapping document`,
      );
      winners.push(mappingId);
      figures.push(
        `identical round ${round}: ${statusCounts(answers)}, answers ${spreadMs} ms apart, 1 mapping`,
      );
    }

    const workflows = await settledWorkflows(IDENTICAL_ROUNDS);
    for (const mappingId of winners) {
      const workflow = workflows.get(folderSyncWorkflowId(mappingId));
      assert.ok(workflow, `a workflow for ${mappingId}`);
      assert.equal(workflow.runs, 1, 'started once: one run');
      assert.equal(workflow.running, 1);
      assert.deepEqual(workflow.mappingIds, [mappingId], 'MappingId search attribute');
    }
    assert.equal(await collections(h.db).mappings.countDocuments(), IDENTICAL_ROUNDS);
    figures.push(
      `identical: ${IDENTICAL_ROUNDS * CONCURRENT} requests → ${IDENTICAL_ROUNDS} mappings, ${workflows.size} workflows ` +
        `(${[...workflows.values()].reduce((n, w) => n + w.runs, 0)} runs) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  it('the same folder spelled differently at once ("/Site X", "/site x/", "/SITE X") is still one mapping', async () => {
    const folder = '/Site X';
    h.emulator.addFolder(accountId, folder);
    const spellings = ['/Site X', '/site x/', '/SITE X', 'Site X', ' /Site X ', '/sItE x//'];
    const before = await collections(h.db).mappings.countDocuments();
    const { answers } = await burst(
      Array.from({ length: CONCURRENT }, (_, i) => ({
        connectionId,
        dropboxPath: spellings[i % spellings.length],
      })),
    );
    const created = answers.filter((a) => a.status === 201);
    assert.equal(created.length, 1, statusCounts(answers));
    const mappingId = created[0]!.body.id as string;
    assert.equal(created[0]!.body.dropboxPath, folder, "Dropbox's own spelling is stored");
    for (const answer of answers.filter((a) => a !== created[0])) {
      assertError(answer, 409, 'already_mapped');
      assert.equal(answer.body.error.details?.mappingId, mappingId);
    }
    assert.equal(await collections(h.db).mappings.countDocuments(), before + 1);
    const workflows = await settledWorkflows(IDENTICAL_ROUNDS + 1);
    assert.equal(workflows.get(folderSyncWorkflowId(mappingId))?.runs, 1);
    figures.push(`spellings: ${statusCounts(answers)}, 1 mapping, 1 workflow`);
  });

  it(`${CONCURRENT} different folders at once on one connection: ${CONCURRENT} mappings, ${CONCURRENT} workflows, no false conflicts`, async () => {
    const started = Date.now();
    const folders = Array.from({ length: CONCURRENT }, (_, i) => `/Parallel/Folder ${i}`);
    for (const folder of folders) h.emulator.addFolder(accountId, folder);
    const before = await collections(h.db).mappings.countDocuments();
    const earlierWorkflows = (await workflowsByMapping()).size;

    const { answers, spreadMs } = await burst(folders.map((dropboxPath) => ({ connectionId, dropboxPath })));
    for (const answer of answers) expectStatus(answer, 201);
    const ids = answers.map((a) => a.body.id as string);
    assert.equal(new Set(ids).size, CONCURRENT, 'distinct mapping ids');
    assert.deepEqual(
      answers.map((a) => a.body.dropboxPath as string),
      folders,
    );
    const stored = await collections(h.db)
      .mappings.find({ _id: { $in: ids } })
      .toArray();
    assert.equal(stored.length, CONCURRENT);
    assert.equal(await collections(h.db).mappings.countDocuments(), before + CONCURRENT);

    const workflows = await settledWorkflows(earlierWorkflows + CONCURRENT);
    for (const id of ids) {
      const workflow = workflows.get(folderSyncWorkflowId(id));
      assert.ok(workflow, `a workflow for ${id}`);
      assert.equal(workflow.runs, 1);
      assert.equal(workflow.running, 1);
      assert.deepEqual(workflow.mappingIds, [id]);
    }
    figures.push(
      `different: ${statusCounts(answers)}, answers ${spreadMs} ms apart, ${CONCURRENT} mappings, ${CONCURRENT} workflows in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });
});
