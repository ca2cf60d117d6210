package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net/url"
	"os"
	goruntime "runtime"
	"slices"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/bench"
	"github.com/recoverydesk/recoverydesk/internal/bench/ingest"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/dovecot"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

type benchIngestOptions struct {
	ingest.Options
	imapURL  string
	dovecot  bool
	lanes    int
	largeMiB int
}

func benchIngest() *benchmark {
	return &benchmark{
		name:    "ingest",
		summary: "APPEND a realistic mix of mail to IMAP and time it into cases",
		help: `APPENDs a mix of mail to an IMAP mailbox while the product's own ingestion
(imapsync and desk.Inbound, as in the worker) stores it in DATABASE_URL,
and waits until every message is a case message or quarantined. The mix:
new requests (some HTML, a few with attachments), replies threading by
header, by our marker and by the [RD-…] subject tag, duplicates,
auto-replies, bounces and a few malformed messages.

Three steps. A warm-up of new requests opens the cases the mix answers.
With ingestion stopped, the mix is APPENDed; then ingestion starts and is
timed until it has drained the mailbox: messages/s and peak memory. Last,
with ingestion running, more of the mix is APPENDed at --rate per second:
p50/p90/p99 from the start of each APPEND to its commit. Fails when a
message is lost or stored twice.

Without --imap-url or --dovecot it runs go-imap's in-process server on
loopback (which holds the mail in this process's memory); --dovecot
starts a private Dovecot for the run (mdbox storage on /dev/shm);
--imap-url uses a running server (e.g. imap://user:pass@127.0.0.1:143),
creating a fresh mailbox there. --large-mib N instead ingests one
message of N MiB and reports the heap its ingestion needs beyond what
was live before.

Migrations are applied first. Mail the cases would send is queued but not
sent (no worker runs).`,
		flags: func(fs *flag.FlagSet) any {
			o := &benchIngestOptions{}
			fs.IntVar(&o.Messages, "messages", 10000, "messages in the mix ingestion drains")
			fs.IntVar(&o.Paced, "paced", 1000, "messages APPENDed at --rate while ingestion runs, for latency")
			fs.Float64Var(&o.Rate, "rate", 200, "APPENDs per second in the paced phase")
			fs.IntVar(&o.Warmup, "warmup", 200, "new requests ingested first (untimed) for the mix to answer")
			fs.IntVar(&o.Connections, "connections", 4, "IMAP connections APPENDing at once")
			fs.IntVar(&o.BatchSize, "batch", 100, "messages per UID FETCH (and per batch of transactions)")
			fs.IntVar(&o.lanes, "lanes", 0, "transactions storing a batch at once (default: desk.DefaultLanes, 4)")
			fs.Uint64Var(&o.Seed, "seed", uint64(time.Now().Unix()), "random seed of the mix (default: the time, so runs do not collide)")
			fs.StringVar(&o.imapURL, "imap-url", "", "IMAP server to APPEND to, imap://user:pass@host:port (default: in-process)")
			fs.BoolVar(&o.dovecot, "dovecot", false, "start a private Dovecot (Debian's dovecot-imapd) on loopback and use it")
			fs.IntVar(&o.largeMiB, "large-mib", 0, "ingest one message of this many MiB and report its memory instead")
			return o
		},
		run: runBenchIngest,
	}
}

func runBenchIngest(ctx context.Context, c *cli, opts any) error {
	o := opts.(*benchIngestOptions)
	if o.imapURL != "" {
		u, err := url.Parse(o.imapURL)
		if err != nil || u.Scheme != "imap" || u.User == nil {
			return usagef("--imap-url must be imap://user:pass@host:port")
		}
		o.IMAPURL = u
	}
	if o.dovecot {
		if o.IMAPURL != nil {
			return usagef("--dovecot and --imap-url exclude each other")
		}
		s, err := dovecot.Start(dovecot.Options{Username: "bench", Password: rand.Text(), Dir: ramDisk(), Mdbox: true})
		if err != nil {
			return err
		}
		defer s.Close()
		o.IMAPURL = s.URL()
	}
	rt, err := setup(ctx, c, config.ModeTool, true)
	if err != nil {
		return err
	}
	defer rt.close()
	if len(rt.cfg.SecretKey) == 0 {
		// Any key will do for signing the run's own mail.
		rt.cfg.SecretKey = []byte(rand.Text() + rand.Text())
	}
	outbox, err := mailbox.NewOutboxFromConfig(rt.store.Ent, &rt.cfg, rt.log)
	if err != nil {
		return err
	}
	signer, err := newSigner(rt)
	if err != nil {
		return err
	}
	o.Support, o.Logger = rt.cfg.SupportAddress, rt.log
	deps := ingest.Deps{Store: rt.store, Handler: newInbound(rt, outbox, signer, o.lanes)}
	fmt.Fprintf(c.stdout, "machine: %s, %d CPUs, Go %s\n", goruntime.GOARCH, goruntime.NumCPU(), goruntime.Version())
	if o.largeMiB > 0 {
		r, err := ingest.RunLarge(ctx, deps, o.Options, o.largeMiB<<20)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "one message of %s ingested in %s: live heap %s before, peak %s, so ingestion needed %.2f× the message's size\n",
			bench.MiB(uint64(r.Size)), r.Elapsed.Round(time.Millisecond), bench.MiB(r.Baseline), bench.MiB(r.PeakHeap), r.Ratio())
		return nil
	}
	r, err := ingest.Run(ctx, deps, o.Options)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "database held %d messages before the run; IMAP server %s\n", r.StoredOld, r.Server)
	kinds := make([]string, 0, len(r.ByKind))
	for k := range r.ByKind {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(c.stdout, "  %-30s %6d\n", k, r.ByKind[ingest.Kind(k)])
	}
	fmt.Fprintf(c.stdout, "APPENDed the mix at %.0f messages/s\n", r.AppendRate)
	fmt.Fprintf(c.stdout, "drained %d messages in %s: %.0f messages/s\n", r.Messages-r.Paced, r.Drain.Round(time.Millisecond), r.Rate)
	fmt.Fprintf(c.stdout, "memory while draining: %s\n", r.Memory)
	if r.Paced > 0 {
		fmt.Fprintf(c.stdout, "paced: %d messages APPENDed at %.0f/s; APPEND to commit: %s\n", r.Paced, r.PacedRate, r.Latency)
	}
	fmt.Fprintf(c.stdout, "stored %d, quarantined %d, dropped %d (the mix has %d duplicates and bounces)\n", r.Stored, r.Quarantine, r.Dropped, r.Expected)
	return nil
}

// ramDisk is /dev/shm when there is one: the mailbox's disk speed is not
// what the benchmark measures.
func ramDisk() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}
