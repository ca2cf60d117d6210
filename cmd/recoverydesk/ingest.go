package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/imapsync"
)

// newSigner signs our Message-IDs and body markers with SECRET_KEY, in the
// support address's domain.
func newSigner(rt *runtime) (*mailbox.MessageIDSigner, error) {
	domain := rt.cfg.SupportAddress[strings.LastIndexByte(rt.cfg.SupportAddress, '@')+1:]
	return mailbox.NewMessageIDSigner(rt.cfg.SecretKey, domain)
}

// startIngestion runs IMAP ingestion of IMAP_URL into cases until the
// returned stop is called (it waits for the current message to be
// stored). Without IMAP_URL it does nothing. Any number of processes may
// run it: a lease in PostgreSQL lets one hold the mailbox at a time.
func startIngestion(ctx context.Context, rt *runtime) (stop func(), err error) {
	if rt.cfg.IMAPURL == nil {
		rt.log.Warn("IMAP_URL is not set: mail to the support address is not ingested")
		return func() {}, nil
	}
	outbox, err := mailbox.NewOutboxFromConfig(rt.store.Ent, &rt.cfg, rt.log)
	if err != nil {
		return nil, err
	}
	signer, err := newSigner(rt)
	if err != nil {
		return nil, err
	}
	inbound := newInbound(rt, outbox, signer, 0)
	syncer, err := imapsync.New(rt.store.Ent, inbound, imapsync.Config{URL: rt.cfg.IMAPURL, Owner: workerName(), Logger: rt.log})
	if err != nil {
		return nil, fmt.Errorf("ingestion: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := syncer.Run(runCtx); err != nil {
			rt.log.Error("ingestion stopped", "mailbox", syncer.Mailbox(), "err", err)
		}
	})
	rt.log.Info("ingesting mail", "mailbox", syncer.Mailbox())
	return func() { cancel(); wg.Wait() }, nil
}

// newInbound stores fetched mail in cases; ingestion and the quarantine
// admin page share it. lanes is how many transactions store a batch at
// once (0: desk's default).
func newInbound(rt *runtime, outbox *mailbox.Outbox, signer *mailbox.MessageIDSigner, lanes int) *desk.Inbound {
	return desk.NewInbound(rt.store, outbox, signer, desk.InboundOptions{
		SLA:                slaPolicy(rt),
		SupportAddresses:   []string{rt.cfg.SupportAddress},
		MaxAttachmentBytes: rt.cfg.MaxAttachmentBytes,
		Lanes:              lanes,
		SiteName:           rt.cfg.SiteName,
		BaseURL:            rt.cfg.BaseURL,
		Logger:             rt.log,
	})
}

// workerName identifies this process in mailbox leases.
func workerName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
