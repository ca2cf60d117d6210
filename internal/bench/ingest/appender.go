package ingest

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// appended is when the APPEND of one message started and the UID the
// server gave it.
type appended struct {
	start time.Time
	uid   uint32
}

// appendAll APPENDs msgs to the mailbox of u over conns connections, in
// order as far as concurrency allows, at most rate per second (0: as fast
// as they go), and returns when each started and its UID (the server must
// support UIDPLUS; Dovecot and go-imap's do).
func appendAll(ctx context.Context, u *url.URL, msgs []Message, conns int, rate float64) ([]appended, error) {
	out := make([]appended, len(msgs))
	next := make(chan int)
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for range conns {
		c, err := login(u)
		if err != nil {
			return nil, err
		}
		wg.Go(func() {
			defer c.Close()
			for i := range next {
				start := time.Now()
				uid, err := appendOne(c, mailboxName(u), msgs[i].Raw)
				if err != nil {
					errs <- fmt.Errorf("append message %d: %w", i, err)
					return
				}
				out[i] = appended{start: start, uid: uid}
			}
		})
	}
	var (
		err  error
		tick <-chan time.Time
	)
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		tick = t.C
	}
feed:
	for i := range msgs {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				err = ctx.Err()
				break feed
			}
		}
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return out, err
}

func appendOne(c *imapclient.Client, mailbox string, raw []byte) (uint32, error) {
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		return 0, err
	}
	if err := cmd.Close(); err != nil {
		return 0, err
	}
	data, err := cmd.Wait()
	if err != nil {
		return 0, err
	}
	if data.UID == 0 {
		return 0, fmt.Errorf("the server gave no UID (no UIDPLUS)")
	}
	return uint32(data.UID), nil
}

// login opens a plain connection to a loopback IMAP server.
func login(u *url.URL) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(u.Host, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u.Host, err)
	}
	pw, _ := u.User.Password()
	if err := c.Login(u.User.Username(), pw).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("login to %s: %w", u.Host, err)
	}
	return c, nil
}

// newMailbox creates a mailbox for one run on the server of u (so runs
// against a shared server such as Dovecot start empty) and returns its URL.
func newMailbox(u *url.URL, name string) (*url.URL, error) {
	c, err := login(u)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Create(name, nil).Wait(); err != nil {
		return nil, fmt.Errorf("create mailbox %s: %w", name, err)
	}
	v := *u
	v.Path = "/" + name
	return &v, nil
}

func mailboxName(u *url.URL) string {
	if len(u.Path) > 1 {
		return u.Path[1:]
	}
	return "INBOX"
}
