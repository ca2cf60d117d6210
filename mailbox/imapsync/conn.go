package imapsync

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// conn is a logged-in IMAP connection with the mailbox selected.
type conn struct {
	c    *imapclient.Client
	sel  *imap.SelectData
	idle bool
	// changed receives a value when the server reports new messages
	// (EXISTS); buffered, so a burst of reports is one wake-up.
	changed chan struct{}
	stop    func() bool // detaches the close-on-cancel hook
}

// dial connects, logs in and selects t's mailbox. Cancelling ctx closes
// the connection, which unblocks any command in flight.
func dial(ctx context.Context, t target) (*conn, error) {
	var (
		nc  net.Conn
		err error
	)
	if t.tls {
		d := tls.Dialer{Config: &tls.Config{ServerName: t.serverName, MinVersion: tls.VersionTLS12}}
		nc, err = d.DialContext(ctx, "tcp", t.addr)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", t.addr)
	}
	if err != nil {
		return nil, fmt.Errorf("imapsync: dial %s: %w", t.addr, err)
	}
	cn := &conn{changed: make(chan struct{}, 1)}
	cn.c = imapclient.New(nc, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					cn.wake()
				}
			},
		},
	})
	cn.stop = context.AfterFunc(ctx, func() { _ = cn.c.Close() })
	if err := cn.open(t); err != nil {
		cn.close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("imapsync: %s: %w", t.addr, ctx.Err())
		}
		return nil, err
	}
	return cn, nil
}

func (cn *conn) open(t target) error {
	if err := cn.c.WaitGreeting(); err != nil {
		return fmt.Errorf("imapsync: greeting from %s: %w", t.addr, err)
	}
	if err := cn.c.Login(t.username, t.password).Wait(); err != nil {
		return fmt.Errorf("imapsync: login to %s as %s: %w", t.addr, t.username, err)
	}
	// Capabilities may change after login; Caps asks again if needed.
	caps := cn.c.Caps()
	cn.idle = caps.Has(imap.CapIdle) || caps.Has(imap.CapIMAP4rev2)
	// EXAMINE: ingestion never changes the mailbox, so a person may read
	// it alongside without finding flags changed.
	sel, err := cn.c.Select(t.mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("imapsync: select %s: %w", t.mailbox, err)
	}
	cn.sel = sel
	return nil
}

func (cn *conn) wake() {
	select {
	case cn.changed <- struct{}{}:
	default:
	}
}

// close drops the connection (no LOGOUT: it would wait on a server that
// may be the reason we are closing).
func (cn *conn) close() {
	cn.stop()
	_ = cn.c.Close()
}
