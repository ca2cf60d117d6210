package devmail

import (
	"github.com/emersion/go-imap/v2/imapserver"
)

// idleSession fixes a gap in imapmemserver's IDLE: a message appended
// between the client's IDLE command and the server starting to wait is
// queued but not announced until something else happens. Here a delivery
// also wakes every idling session, which then polls, so a mail delivered
// from the /dev/mail page is always announced at once.
type idleSession struct {
	imapserver.SessionIMAP4rev2
	arrivals func() <-chan struct{}
}

func (s idleSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	for {
		// Take the channel before polling: a delivery after this point
		// closes it, and one before it is already queued for Poll.
		arrived := s.arrivals()
		if err := s.Poll(w, true); err != nil {
			return err
		}
		childStop := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- s.SessionIMAP4rev2.Idle(w, childStop) }()
		select {
		case <-stop:
			close(childStop)
			return <-done
		case err := <-done:
			// Upstream returns at once when no mailbox is selected.
			return err
		case <-arrived:
			close(childStop)
			if err := <-done; err != nil {
				return err
			}
		}
	}
}

// arrivals returns a channel that is closed at the next delivery.
func (m *Mailbox) arrivals() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.arrived
}

// announce wakes the sessions waiting in IDLE.
func (m *Mailbox) announce() {
	m.mu.Lock()
	defer m.mu.Unlock()
	close(m.arrived)
	m.arrived = make(chan struct{})
}
