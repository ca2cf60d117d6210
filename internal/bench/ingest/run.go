package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/bench"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/mailbox/imapsync"
)

// Options say what to run.
type Options struct {
	// Messages is how many messages the drained mix has; Warmup how many
	// new requests open the cases it replies to first.
	Messages, Warmup int
	// Paced messages are APPENDed at Rate per second while ingestion
	// runs, for the APPEND-to-commit latency.
	Paced int
	Rate  float64
	// Connections APPEND at once.
	Connections int
	// Seed makes the mix reproducible.
	Seed uint64
	// BatchSize is how many messages one UID FETCH asks for.
	BatchSize int
	// IMAPURL is a server to APPEND to (each run creates its own
	// mailbox there); nil runs the in-process server.
	IMAPURL *url.URL
	// Support is the support address the mail is sent to.
	Support string
	Logger  *slog.Logger
}

// Deps are the product's parts under test.
type Deps struct {
	Store *store.Store
	// Handler stores fetched mail: the product's desk.Inbound.
	Handler mailbox.MessageHandler
}

// Report is what a run measured.
type Report struct {
	Messages   int
	ByKind     map[Kind]int
	AppendRate float64 // messages per second the APPENDs of the mix took
	Drain      time.Duration
	Rate       float64 // messages per second ingestion drained
	Memory     bench.MemoryReport
	Paced      int
	PacedRate  float64       // messages per second APPENDed in the paced phase
	Latency    bench.Summary // paced phase: APPEND start to commit
	Stored     int           // case messages from this mailbox
	Quarantine int           // quarantined messages from this mailbox
	Dropped    int           // neither: duplicates and bounces
	Expected   int           // duplicates and bounces in both phases
	StoredOld  int64
	Server     string
}

// ingestion is the product's ingestion of one mailbox, started and
// stopped by the benchmark.
type ingestion struct {
	stop    func()
	mailbox string // as checkpoints and stored messages name it
}

func startIngestion(ctx context.Context, d Deps, rec *recorder, u *url.URL, o Options, log *slog.Logger) (*ingestion, error) {
	syncer, err := imapsync.New(d.Store.Ent, rec, imapsync.Config{URL: u, Owner: fmt.Sprintf("bench-%d", o.Seed), BatchSize: o.BatchSize, Logger: log})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = syncer.Run(runCtx)
	}()
	return &ingestion{stop: func() { cancel(); <-done }, mailbox: syncer.Mailbox()}, nil
}

// Run measures in three steps. A warm-up opens the cases the mix answers.
// Then, with ingestion stopped, the mix is APPENDed, and ingestion is
// started and timed until it has drained the mailbox: the rate. Last,
// with ingestion running, more of the mix is APPENDed at a steady rate
// it can sustain: the time from each APPEND to its commit.
func Run(ctx context.Context, d Deps, o Options) (Report, error) {
	if o.Messages <= 0 || o.Connections <= 0 || o.Paced < 0 || o.Paced > 0 && o.Rate <= 0 {
		return Report{}, errors.New("ingest: Messages and Connections must be positive, and Paced needs a Rate")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := Report{Messages: o.Messages, Paced: o.Paced, ByKind: map[Kind]int{}}
	if err := d.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&rep.StoredOld); err != nil {
		return rep, fmt.Errorf("ingest: count stored messages: %w", err)
	}
	u, stopServer, err := mailboxFor(o)
	if err != nil {
		return rep, err
	}
	defer stopServer()
	rep.Server = u.Host
	rec := newRecorder(d.Handler)

	warm := NewRequests(o.Warmup, o.Seed^1, o.Support)
	ing, err := startIngestion(ctx, d, rec, u, o, log)
	if err != nil {
		return rep, err
	}
	if _, err := appendAll(ctx, u, warm, o.Connections, 0); err != nil {
		ing.stop()
		return rep, err
	}
	err = rec.waitAbove(ctx, 0, len(warm))
	ing.stop()
	if err != nil {
		return rep, fmt.Errorf("ingest: warm-up: %w", err)
	}
	threads, err := loadThreads(ctx, d.Store, warm)
	if err != nil {
		return rep, err
	}
	msgs := Mix(o.Messages+o.Paced, o.Seed, o.Support, threads)
	for _, m := range msgs {
		rep.ByKind[m.Kind]++
	}
	rep.Expected = rep.ByKind[KindDuplicate] + rep.ByKind[KindBounce]
	paced := msgs[o.Messages:]
	msgs = msgs[:o.Messages]

	log.Info("bench: appending the mix", "messages", len(msgs), "connections", o.Connections)
	start := time.Now()
	if _, err := appendAll(ctx, u, msgs, o.Connections, 0); err != nil {
		return rep, err
	}
	rep.AppendRate = float64(len(msgs)) / time.Since(start).Seconds()

	runtime.GC()
	mem := bench.WatchMemory(ctx, 5*time.Millisecond)
	log.Info("bench: draining")
	start = time.Now()
	ing, err = startIngestion(ctx, d, rec, u, o, log)
	if err != nil {
		return rep, err
	}
	defer func() { ing.stop() }()
	err = rec.waitAbove(ctx, uint32(len(warm)), len(msgs))
	rep.Drain = time.Since(start)
	rep.Memory = mem.Stop()
	if err != nil {
		return rep, fmt.Errorf("ingest: draining: %w", err)
	}
	rep.Rate = float64(len(msgs)) / rep.Drain.Seconds()

	if len(paced) > 0 {
		log.Info("bench: paced appends", "messages", len(paced), "rate", o.Rate)
		start = time.Now()
		app, err := appendAll(ctx, u, paced, o.Connections, o.Rate)
		if err != nil {
			return rep, err
		}
		rep.PacedRate = float64(len(paced)) / time.Since(start).Seconds()
		if err := rec.waitAbove(ctx, uint32(len(warm)+len(msgs)), len(paced)); err != nil {
			return rep, fmt.Errorf("ingest: paced phase: %w", err)
		}
		var lat bench.Latencies
		for _, a := range app {
			at, ok := rec.commitTime(a.uid)
			if !ok {
				return rep, fmt.Errorf("ingest: uid %d never committed", a.uid)
			}
			lat.Add(max(0, at.Sub(a.start)))
		}
		rep.Latency = lat.Summary()
	}
	rep.Messages += len(paced)
	return rep, count(ctx, d.Store, ing.mailbox, len(warm), &rep)
}

// count reads what the run left in the database and checks it: every
// message is a case message or quarantined, except duplicates and bounces.
func count(ctx context.Context, st *store.Store, mbox string, warm int, rep *Report) error {
	err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM messages WHERE mailbox = $1),
		(SELECT count(*) FROM quarantined_messages WHERE mailbox = $1)`, mbox).Scan(&rep.Stored, &rep.Quarantine)
	if err != nil {
		return fmt.Errorf("ingest: count what was stored: %w", err)
	}
	rep.Stored -= warm
	rep.Dropped = rep.Messages - rep.Stored - rep.Quarantine
	if rep.Dropped != rep.Expected {
		return fmt.Errorf("ingest: %d messages were neither stored nor quarantined, but the mix has %d duplicates and bounces", rep.Dropped, rep.Expected)
	}
	return nil
}

// mailboxFor starts the in-process server or makes a fresh mailbox on
// o.IMAPURL's server.
func mailboxFor(o Options) (*url.URL, func(), error) {
	if o.IMAPURL != nil {
		u, err := newMailbox(o.IMAPURL, fmt.Sprintf("bench-%d-%d", o.Seed, time.Now().UnixNano()))
		return u, func() {}, err
	}
	mb := devmail.NewMailbox(slog.New(slog.DiscardHandler), "bench", "bench-password")
	if _, err := mb.Start("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("ingest: start IMAP server: %w", err)
	}
	return mb.URL(), func() { _ = mb.Close() }, nil
}
