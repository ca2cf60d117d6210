package imapsync

import (
	"context"
	"net/url"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, key string
		tls     bool
	}{
		{"imap://u:p@localhost:1143/INBOX", "u@localhost:1143/INBOX", false},
		{"imaps://u%40x:p@Mail.Example.org", "u@x@mail.example.org:993/INBOX", true},
		{"imap://u@mail.example.org/Support/Inbound", "u@mail.example.org:143/Support/Inbound", false},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseURL(u)
		if err != nil {
			t.Errorf("parseURL(%s): %v", tc.in, err)
			continue
		}
		if got.key() != tc.key || got.tls != tc.tls {
			t.Errorf("parseURL(%s) = key %q tls %v, want %q %v", tc.in, got.key(), got.tls, tc.key, tc.tls)
		}
	}
	for _, bad := range []string{"pop3://u:p@h/INBOX", "imap:///INBOX", "imap://h/INBOX"} {
		u, _ := url.Parse(bad)
		if _, err := parseURL(u); err == nil {
			t.Errorf("parseURL(%s) succeeded", bad)
		}
	}
}

func TestBackoffGrowsCapsAndResets(t *testing.T) {
	b := newBackoff(100*time.Millisecond, time.Second)
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		w *= time.Millisecond
		if d := b.wait(); d < w/2 || d > w {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, d, w/2, w)
		}
	}
	b.reset()
	if d := b.wait(); d > 100*time.Millisecond {
		t.Errorf("after reset wait = %v, want <= 100ms", d)
	}
}

// A server without IDLE is polled: waitForMail returns after the poll
// interval, and the next fetch finds what arrived meanwhile.
func TestWaitPollsWithoutIdle(t *testing.T) {
	ctx := context.Background()
	mb := startServer(t, "127.0.0.1:0")
	rec := newRecorder()
	s := newSyncer(t, mb, "w1", rec, func(c *Config) { c.PollInterval = 50 * time.Millisecond })
	cp, err := s.leases.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cn, err := dial(ctx, s.target)
	if err != nil {
		t.Fatal(err)
	}
	defer cn.close()
	cn.idle = false // as if the server lacked IDLE
	if err := s.syncCheckpoint(ctx, s.leases, &cp, cn.sel); err != nil {
		t.Fatal(err)
	}
	deliver(t, mb, 1, 1)
	start := time.Now()
	if err := s.waitForMail(ctx, s.leases, cn); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("waitForMail took %v with a 50ms poll interval", waited)
	}
	if n, err := s.fetchNew(ctx, s.leases, cn, &cp); err != nil || n != 1 {
		t.Fatalf("fetchNew after poll = %d, %v; want 1, nil", n, err)
	}
}
