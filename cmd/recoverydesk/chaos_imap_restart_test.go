package main_test

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestChaosIMAPRestart: the IMAP server killed mid-ingestion and started
// again on the same port with the same mail; the worker reconnects by
// itself and resumes from its checkpoint: after the restart it fetches no
// UID at or below the checkpoint the old connection reached, and every
// message ends up stored once.
func TestChaosIMAPRestart(t *testing.T) {
	const total = 2000
	begin := time.Now()
	db := freshChaosDB(t)
	imapSrv := startChaosIMAP(t)
	plan := planMail(total, "imap")
	imapSrv.appendRaw(t, plan.raws())
	relay := startChaosSMTP(t, nil)
	w := start(t, workerEnv(db.url, imapSrv.URL(), relay.URL()), "worker")
	poll(t, "300 messages stored", 2*time.Minute, []*process{w}, func(ctx context.Context) (bool, error) {
		n, err := db.storedInbound(ctx)
		return n >= 300, err
	})

	imapSrv.stop()
	// The old connection is gone, so the checkpoint can only move on
	// through a new one: a message the worker was storing as the server
	// died may still be recorded, hence a lower bound.
	checkpoint := uint32(db.mustCount(t, `SELECT last_uid FROM mailbox_checkpoints`))
	if checkpoint >= total {
		t.Fatal("ingestion finished before the restart: nothing was tested")
	}
	imapSrv.start(t)
	t.Logf("IMAP server restarted at checkpoint %d, %v in", checkpoint, time.Since(begin).Round(time.Millisecond))

	waitIngested(t, db, plan, 2*time.Minute, w)
	t.Logf("all ingested after %v", time.Since(begin).Round(time.Millisecond))
	assertIngestedOnce(t, db, plan)

	// What the worker asked the restarted server for.
	fetches, lowest := assertAskedAbove(t, imapSrv.commands(func(c imapCommand) bool { return c.gen == 2 }), checkpoint)
	t.Logf("after the restart: %d UID FETCHes, lowest UID asked for %d (checkpoint was %d)", fetches, lowest, checkpoint)
	if code := w.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("worker exit %d after SIGTERM, want 0", code)
	}
}

// assertAskedAbove checks that cmds fetch or search only UIDs above
// checkpoint, by UID, and fetch something; it returns how many UID FETCHes
// there were and the lowest UID asked for.
func assertAskedAbove(t *testing.T, cmds []imapCommand, checkpoint uint32) (fetches int, lowest uint32) {
	t.Helper()
	lowest = math.MaxUint32
	for _, c := range cmds {
		verb, set := uidCommand(c.line)
		if verb == "" {
			if isFetchOrSearch(c.line) {
				t.Errorf("the worker sent %q: want UID FETCH/SEARCH (sequence numbers change)", c.line)
			}
			continue
		}
		low, ok := lowestUID(set)
		if !ok {
			if verb == "FETCH" {
				t.Errorf("%q names no UID range", c.line)
			}
			continue
		}
		if verb == "FETCH" {
			fetches++
		}
		lowest = min(lowest, low)
		if low <= checkpoint {
			t.Errorf("resuming at checkpoint %d the worker asked for UID %d: %q", checkpoint, low, c.line)
		}
	}
	if fetches == 0 {
		t.Errorf("no UID FETCH after resuming at checkpoint %d; commands: %v", checkpoint, cmds)
	}
	return fetches, lowest
}

// uidCommand splits "tag UID FETCH|SEARCH rest" into the verb and the UID
// set it asks for: FETCH's first argument, SEARCH's "UID" criterion.
func uidCommand(line string) (verb, set string) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.EqualFold(f[1], "UID") {
		return "", ""
	}
	switch strings.ToUpper(f[2]) {
	case "FETCH":
		return "FETCH", f[3]
	case "SEARCH":
		for i := 3; i+1 < len(f); i++ {
			if strings.EqualFold(f[i], "UID") {
				return "SEARCH", f[i+1]
			}
		}
		return "SEARCH", ""
	}
	return "", ""
}

var fetchOrSearch = regexp.MustCompile(`(?i)^\S+\s+(FETCH|SEARCH)\b`)

func isFetchOrSearch(line string) bool { return fetchOrSearch.MatchString(line) }

// lowestUID is the smallest UID an IMAP sequence set ("5:*", "3,7:9")
// names; "*" alone is the highest, so it names no lower bound.
func lowestUID(set string) (uint32, bool) {
	var lowest uint64
	found := false
	for _, r := range strings.Split(set, ",") {
		for _, b := range strings.Split(r, ":") {
			n, err := strconv.ParseUint(b, 10, 32)
			if err != nil {
				continue
			}
			if !found || n < lowest {
				lowest, found = n, true
			}
		}
	}
	return uint32(lowest), found
}
