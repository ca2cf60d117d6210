package workers_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
)

// A graceful stop lets a job that is running finish: the mail being sent
// when SIGTERM arrives is delivered and recorded as sent, not cancelled.
func TestStopLetsRunningJobFinish(t *testing.T) {
	relay := newHoldingRelay(t)
	b := setup(t, relay.addr)
	b.start(t)
	row := b.queue(t)

	select {
	case <-relay.inData:
	case <-time.After(30 * time.Second):
		t.Fatal("the job never reached DATA")
	}
	stopped := make(chan error, 1)
	go func() {
		b.stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stopped <- b.client.Stop(ctx)
	}()
	// Stop must wait for the job, which waits for the relay.
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a job was still sending", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(relay.release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop = %v, want nil", err)
	}
	got := b.reload(t, row.ID)
	if got.Status != outboundmail.StatusSent {
		t.Fatalf("status %s after a graceful stop, want sent", got.Status)
	}
}

// holdingRelay accepts mail but holds the DATA reply until released.
type holdingRelay struct {
	addr    string
	inData  chan struct{}
	release chan struct{}
}

func newHoldingRelay(t *testing.T) *holdingRelay {
	t.Helper()
	r := &holdingRelay{inData: make(chan struct{}, 1), release: make(chan struct{})}
	r.addr = startRelay(t, func() smtp.Session { return holdSession{r} })
	return r
}

type holdSession struct{ r *holdingRelay }

func (s holdSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s holdSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s holdSession) Data(body io.Reader) error {
	_, _ = io.Copy(io.Discard, body)
	select {
	case s.r.inData <- struct{}{}:
	default:
	}
	<-s.r.release
	return nil
}
func (s holdSession) Reset()        {}
func (s holdSession) Logout() error { return nil }
