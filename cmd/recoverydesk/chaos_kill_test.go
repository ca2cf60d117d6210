package main_test

import (
	"context"
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"
)

// TestChaosKillDuringIngestion: a worker SIGKILLed twice while it ingests
// 10,000 messages, and restarted each time, stores every message exactly
// once: what the dead worker stored but did not checkpoint is fetched
// again and must be recognised.
func TestChaosKillDuringIngestion(t *testing.T) {
	const total = 10000
	begin := time.Now()
	db := freshChaosDB(t)
	imapSrv := startChaosIMAP(t)
	plan := planMail(total, "kill")
	if last := imapSrv.appendRaw(t, plan.raws()); last != total {
		t.Fatalf("last UID %d, want %d", last, total)
	}
	relay := startChaosSMTP(t, nil)
	env := workerEnv(db.url, imapSrv.URL(), relay.URL())
	t.Logf("mailbox of %d filled in %v", total, time.Since(begin).Round(time.Millisecond))

	// The IMAP connections opened before each kill, and the checkpoint
	// it left.
	type kill struct {
		conns      int
		checkpoint uint32
	}
	var kills []kill
	// Kill points as stored messages: early, and past the middle.
	for _, killAt := range []int{total / 5, total * 3 / 5} {
		w := start(t, env, "worker")
		poll(t, fmt.Sprintf("%d messages stored", killAt), 3*time.Minute, []*process{w}, func(ctx context.Context) (bool, error) {
			n, err := db.storedInbound(ctx)
			return n >= killAt, err
		})
		w.stop(t, syscall.SIGKILL)
		n := db.mustCount(t, `SELECT count(*) FROM messages WHERE direction = 'inbound'`)
		cp := db.mustCount(t, `SELECT last_uid FROM mailbox_checkpoints`)
		if cp >= total {
			t.Fatalf("ingestion finished before the kill (checkpoint %d): nothing was tested", cp)
		}
		t.Logf("killed at %d stored, checkpoint %d, after %v", n, cp, time.Since(begin).Round(time.Millisecond))
		db.expireLeases(t)
		kills = append(kills, kill{conns: imapSrv.connections(), checkpoint: uint32(cp)})
	}

	w := start(t, env, "worker")
	waitIngested(t, db, plan, 3*time.Minute, w)
	t.Logf("all ingested after %v", time.Since(begin).Round(time.Millisecond))
	assertIngestedOnce(t, db, plan)
	// Each new worker resumed from the checkpoint the dead one left.
	for i, k := range kills {
		until := math.MaxInt
		if i+1 < len(kills) {
			until = kills[i+1].conns
		}
		assertAskedAbove(t, imapSrv.commands(func(c imapCommand) bool { return c.conn > k.conns && c.conn <= until }), k.checkpoint)
	}
	// For the record: send jobs the killed workers were running wait for
	// River's rescuer (workers.RescueStuckJobsAfter), their mail stays
	// "sending" until then.
	t.Logf("send jobs left running by the killed workers: %d",
		db.mustCount(t, `SELECT count(*) FROM river_job WHERE kind = 'mailbox.send' AND state = 'running'`))
	if code := w.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("worker exit %d after SIGTERM, want 0", code)
	}
}
