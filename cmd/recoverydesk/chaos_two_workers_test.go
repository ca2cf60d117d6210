package main_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestChaosTwoWorkersOneMailbox: two worker processes started together on
// one mailbox store every message once. Then the one holding the lease is
// SIGKILLed; once its lease has lapsed the other takes the mailbox over
// and ingests what arrives next, again once.
//
// The lease TTL is a minute and not configurable, and a standing-by
// worker looks again every half TTL; the test expires the dead worker's
// lease in the database instead of waiting for it, so the takeover still
// waits for the survivor's next look, up to 30 seconds.
func TestChaosTwoWorkersOneMailbox(t *testing.T) {
	const first, more = 1000, 250
	begin := time.Now()
	db := freshChaosDB(t)
	imapSrv := startChaosIMAP(t)
	all := planMail(first+more, "two")
	plan := planMail(first, "two") // the first messages of all
	imapSrv.appendRaw(t, all.raws()[:first])
	relay := startChaosSMTP(t, nil)
	env := workerEnv(db.url, imapSrv.URL(), relay.URL())
	a, b := start(t, env, "worker"), start(t, env, "worker")
	waitIngested(t, db, plan, 2*time.Minute, a, b)
	t.Logf("%d ingested by two workers after %v", first, time.Since(begin).Round(time.Millisecond))
	assertIngestedOnce(t, db, plan)

	// Kill whichever holds the mailbox (its lease names its PID).
	var owner string
	if err := db.pool.QueryRow(context.Background(), `SELECT coalesce(lease_owner, '') FROM mailbox_checkpoints`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	holder, survivor := a, b
	switch {
	case strings.Contains(owner, fmt.Sprintf("-%d-", a.cmd.Process.Pid)):
	case strings.Contains(owner, fmt.Sprintf("-%d-", b.cmd.Process.Pid)):
		holder, survivor = b, a
	default:
		t.Fatalf("lease owner %q names neither worker (PIDs %d, %d)", owner, a.cmd.Process.Pid, b.cmd.Process.Pid)
	}
	holder.stop(t, syscall.SIGKILL)
	killed := time.Now()
	imapSrv.appendRaw(t, all.raws()[first:])
	db.expireLeases(t)
	waitIngested(t, db, all, time.Minute, survivor)
	t.Logf("survivor took over and ingested %d more %v after the kill", more, time.Since(killed).Round(time.Millisecond))
	assertIngestedOnce(t, db, all)
	if code := survivor.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("worker exit %d after SIGTERM, want 0", code)
	}
}
