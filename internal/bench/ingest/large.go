package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/bench"
	"github.com/recoverydesk/recoverydesk/mailbox/imapsync"
)

// LargeReport is what ingesting one large message cost.
type LargeReport struct {
	Size     int           // bytes of the message
	Elapsed  time.Duration // APPEND done to commit
	Baseline uint64        // live heap before ingestion (the in-process server's copy included)
	PeakHeap uint64        // highest live heap while ingesting
}

// Ratio is the extra heap ingestion needed, as a multiple of the size.
func (r LargeReport) Ratio() float64 {
	return float64(r.PeakHeap-min(r.Baseline, r.PeakHeap)) / float64(r.Size)
}

// RunLarge APPENDs one message of about size bytes (a short text and one
// binary attachment, base64 as mail clients send it) and measures the heap
// its ingestion needs on top of what was live before.
func RunLarge(ctx context.Context, d Deps, o Options, size int) (LargeReport, error) {
	u, stopServer, err := mailboxFor(o)
	if err != nil {
		return LargeReport{}, err
	}
	defer stopServer()
	raw := largeMessage(size, o.Seed)
	rep := LargeReport{Size: len(raw)}
	if _, err := appendAll(ctx, u, []Message{{Raw: raw}}, 1, 0); err != nil {
		return rep, err
	}
	raw = nil
	rec := newRecorder(d.Handler)
	syncer, err := imapsync.New(d.Store.Ent, rec, imapsync.Config{URL: u, Owner: fmt.Sprintf("bench-large-%d", o.Seed), Logger: o.Logger})
	if err != nil {
		return rep, err
	}
	runtime.GC()
	rep.Baseline = bench.LiveHeap()
	mem := bench.WatchMemory(ctx, time.Millisecond)
	start := time.Now()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = syncer.Run(runCtx)
	}()
	err = rec.waitAbove(ctx, 0, 1)
	rep.Elapsed = time.Since(start)
	rep.PeakHeap = mem.Stop().PeakHeap
	stop()
	<-done
	return rep, err
}

// largeMessage builds a message of about size bytes.
func largeMessage(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	data := make([]byte, size*3/4-4096)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	var b bytes.Buffer
	b.Grow(size + 8192)
	fmt.Fprintf(&b, "From: Ada Lovelace <ada.large%d@example.org>\r\nTo: support@example.org\r\nSubject: Screen recording of the problem\r\n", seed)
	fmt.Fprintf(&b, "Message-ID: <large-%d-%d@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n", seed, size)
	b.WriteString("--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe recording shows what happens when I log in.\r\n")
	b.WriteString("--b\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=\"recording.mp4\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: &b})
	_, _ = enc.Write(data)
	_ = enc.Close()
	b.WriteString("\r\n--b--\r\n")
	return b.Bytes()
}

// lineWriter breaks base64 into 76-character lines.
type lineWriter struct {
	w   *bytes.Buffer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		if l.col == 76 {
			l.w.WriteString("\r\n")
			l.col = 0
		}
		l.w.WriteByte(c)
		l.col++
	}
	return len(p), nil
}
