package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"

	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// loadThreads reads the cases the warm-up opened: their references and
// our acknowledgements (Message-ID and text, which carries the marker).
func loadThreads(ctx context.Context, st *store.Store, warm []Message) ([]Thread, error) {
	ids := make([]string, 0, len(warm))
	for _, m := range warm {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			return nil, fmt.Errorf("ingest: read warm-up message: %w", err)
		}
		ids = append(ids, mailbox.NormalizeMessageID(msg.Header.Get("Message-ID")))
	}
	rows, err := st.Pool.Query(ctx, `SELECT c.reference, o.message_id_header, o.body_text, o.to_address
		FROM outbound_mails o JOIN cases c ON c.id = o.case_id
		WHERE o.in_reply_to = ANY($1) ORDER BY o.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("ingest: read acknowledgements: %w", err)
	}
	defer rows.Close()
	var out []Thread
	for rows.Next() {
		var t Thread
		if err := rows.Scan(&t.Reference, &t.AckMessageID, &t.AckBody, &t.Requester); err != nil {
			return nil, fmt.Errorf("ingest: read acknowledgement: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ingest: read acknowledgements: %w", err)
	}
	if len(warm) > 0 && len(out) == 0 {
		return nil, fmt.Errorf("ingest: the warm-up opened no cases with acknowledgements")
	}
	return out, nil
}
