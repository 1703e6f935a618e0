// The change feed over a real SQLite file written by two connections, as the app and the CLI write it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ContractEvent } from '../../src-main/contract/index.ts'
import { ChangeFeed } from '../../src-main/change-feed.ts'
import { EventHub } from '../../src-main/event-hub.ts'
import { Store } from '../../src-main/store/store.ts'
import { tempHome, waitFor } from '../helpers/temp-home.ts'

describe('change feed', () => {
  let home: ReturnType<typeof tempHome>
  let app: Store
  let cli: Store
  let feed: ChangeFeed
  let events: ContractEvent[]

  beforeEach(() => {
    home = tempHome()
    app = new Store({ dataDir: home.dir })
    // A second connection stands for another process (the CLI) sharing the data folder.
    cli = new Store({ dataDir: home.dir })
    const hub = new EventHub()
    events = []
    hub.on((event) => void events.push(event))
    feed = new ChangeFeed(app, hub, { intervalMs: 20 })
  })
  afterEach(() => {
    feed.close()
    app.close()
    cli.close()
    home.remove()
  })

  const updates = (uuid: string) => events.filter((e) => e.event === 'runUpdated' && e.payload.run.uuid === uuid)
  const point = (step: number) => ({ key: 'loss', value: 1 / (step + 1), step, time: 1000 + step })

  it("reports another connection's new run, its metrics and its status, and getRun since returns only what is new", async () => {
    const run = cli.runs.create({ name: 'from the CLI', kind: 'train' })
    await waitFor(() => updates(run.uuid).length > 0, 2000, 'the new run')
    expect(events.some((e) => e.event === 'runsChanged' && e.payload.runUuids.includes(run.uuid))).toBe(true)

    cli.runs.logMetrics(run.uuid, [0, 1, 2].map(point))
    const first = await waitFor(() => updates(run.uuid).find((e) => e.event === 'runUpdated' && e.payload.metricsSince !== null), 2000, 'metrics')
    const shown = app.runs.detail(run.uuid)
    expect(shown.metrics.map((m) => m.step)).toEqual([0, 1, 2])
    expect(first.event === 'runUpdated' && first.payload.metricsSince).toBeLessThan(shown.cursor.metrics)

    events.length = 0
    cli.runs.logMetrics(run.uuid, [3, 4].map(point))
    await waitFor(() => updates(run.uuid).some((e) => e.event === 'runUpdated' && e.payload.metricsSince !== null), 2000, 'more metrics')
    const delta = app.runs.detail(run.uuid, shown.cursor)
    expect(delta.metrics.map((m) => m.step)).toEqual([3, 4])
    expect(delta.cursor.metrics).toBeGreaterThan(shown.cursor.metrics)
    expect(app.runs.detail(run.uuid, delta.cursor).metrics).toEqual([])

    events.length = 0
    cli.runs.finish(run.uuid, 'FINISHED')
    const finished = await waitFor(() => updates(run.uuid).find((e) => e.event === 'runUpdated' && e.payload.run.status === 'FINISHED'), 2000, 'the status')
    expect(finished.event === 'runUpdated' && finished.payload.metricsSince).toBeNull()
  })

  it('reports sweep cells, tags and notes, once per check however many rows arrived', async () => {
    const run = cli.runs.create({ name: 'sweep', kind: 'sweep' })
    await waitFor(() => updates(run.uuid).length > 0, 2000, 'the new run')
    events.length = 0
    cli.sweeps.addCells(
      run.uuid,
      Array.from({ length: 50 }, (_, i) => ({ scope: 'global', sigma: i, repeat: 0, correct: 1, count: 2 })),
    )
    const cells = await waitFor(() => updates(run.uuid).find((e) => e.event === 'runUpdated' && e.payload.cellsSince !== null), 2000, 'cells')
    expect(updates(run.uuid)).toHaveLength(1)
    expect(cells.event === 'runUpdated' && cells.payload.metricsSince).toBeNull()

    events.length = 0
    cli.runs.addTag(run.uuid, 'baseline')
    await waitFor(() => updates(run.uuid).some((e) => e.event === 'runUpdated' && e.payload.run.tags.includes('baseline')), 2000, 'the tag')
    events.length = 0
    cli.runs.addNote(run.uuid, 'looks right')
    await waitFor(() => updates(run.uuid).length > 0, 2000, 'the note')
  })

  it('says nothing when nothing changed, and replaced sweep cells count as new', async () => {
    const run = app.runs.create({ name: 'quiet', kind: 'sweep' })
    feed.check()
    events.length = 0
    await new Promise((r) => setTimeout(r, 100))
    expect(events).toEqual([])
    const cell = { scope: 'global', sigma: 1, repeat: 0, correct: 1, count: 2 }
    app.sweeps.addCells(run.uuid, [cell])
    feed.check()
    events.length = 0
    app.sweeps.addCells(run.uuid, [{ ...cell, correct: 2 }])
    feed.check()
    expect(updates(run.uuid).some((e) => e.event === 'runUpdated' && e.payload.cellsSince !== null)).toBe(true)
    expect(app.sweeps.cells(run.uuid)).toEqual([{ ...cell, correct: 2 }])
  })

  describe('jobs across processes', () => {
    const cliOwner = { pid: 424242, host: 'cli-host' }
    const progress = (runUuid: string, fraction: number, state: 'running' | 'killed' = 'running') => ({
      runUuid,
      kind: 'selftest',
      name: 'from the CLI',
      state,
      fraction,
      phase: state,
      message: '',
      etaSeconds: null,
      startedAt: 1000,
    })
    const jobEvents = (uuid: string) => events.flatMap((e) => (e.event === 'jobProgress' && e.payload.runUuid === uuid ? [e.payload] : []))

    it("mirrors one process's job progress into the store, throttled, and relays it as jobProgress to the others", async () => {
      const run = cli.runs.create({ name: 'from the CLI', kind: 'selftest', owner: cliOwner })
      cli.runs.markActive(run.uuid, 'RUNNING', cliOwner)
      const cliHub = new EventHub()
      const cliFeed = new ChangeFeed(cli, cliHub, { intervalMs: 20, owner: cliOwner })
      try {
        cliHub.emit('jobProgress', progress(run.uuid, 0.1))
        cliHub.emit('jobProgress', progress(run.uuid, 0.2)) // within the throttle: held back, written a second later
        await waitFor(() => jobEvents(run.uuid).length > 0, 2000, 'the relayed progress')
        expect(jobEvents(run.uuid)[0]!.fraction).toBe(0.1)
        await waitFor(() => jobEvents(run.uuid).some((p) => p.fraction === 0.2), 3000, 'the held-back progress')
        // The other process lists it; its own progress never comes back to it as someone else's.
        expect(app.runs.activeJobs().map((j) => j.progress.runUuid)).toEqual([run.uuid])
        expect(cli.runs.jobProgressSince(0, cliOwner).jobs).toEqual([])

        cliHub.emit('jobProgress', progress(run.uuid, 0.3, 'killed')) // a state change is written at once
        await waitFor(() => jobEvents(run.uuid).some((p) => p.state === 'killed'), 2000, 'the end')
      } finally {
        cliFeed.close()
      }
    })

    it('hands a cancel request to the process that owns the job, and keeps it when that process cannot act on it', async () => {
      const run = cli.runs.create({ name: 'from the CLI', kind: 'selftest', owner: cliOwner })
      cli.runs.markActive(run.uuid, 'RUNNING', cliOwner)
      const cliFeed = new ChangeFeed(cli, new EventHub(), { intervalMs: 20, owner: cliOwner })
      const asked: string[] = []
      let canAct = false
      cliFeed.onCancelRequest((uuid) => {
        asked.push(uuid)
        return canAct
      })
      // The app's feed owns nothing: a request for the CLI's job is not its to take.
      feed.onCancelRequest(() => {
        throw new Error('the app was asked to cancel a job it does not run')
      })
      try {
        app.runs.requestCancel(run.uuid)
        await waitFor(() => asked.length > 0, 2000, 'the request')
        expect(cli.runs.cancelRequestsFor(cliOwner)).toEqual([run.uuid])
        canAct = true
        await waitFor(() => cli.runs.cancelRequestsFor(cliOwner).length === 0, 2000, 'the request to be taken')
        expect(asked.every((uuid) => uuid === run.uuid)).toBe(true)
      } finally {
        cliFeed.close()
      }
    })
  })
})
