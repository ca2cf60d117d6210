package desk_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/recoverydesk/recoverydesk/ent/attachment"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// TestInboundStoresALargeMessageWhole: a message and an attachment over
// store.LargeBytea take the other way into their columns (a large object,
// not a query parameter) and must arrive byte for byte.
func TestInboundStoresALargeMessageWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	video := make([]byte, store.LargeBytea+4096)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range video {
		video[i] = byte(r.UintN(256))
	}
	msgID := mailbox.NewMessageID("example.com")
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Ada <%s>\r\nTo: support@desk.test\r\nSubject: Screen recording\r\nMessage-ID: %s\r\n", newSender("large").Address, msgID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n")
	b.WriteString("--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe recording shows the login failing.\r\n")
	b.WriteString("--b\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=\"rec.mp4\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(video)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	raw := b.Bytes()
	if len(raw) <= store.LargeBytea {
		t.Fatalf("test message of %d bytes is not over LargeBytea (%d)", len(raw), store.LargeBytea)
	}

	fx.deliver(raw)
	m := fx.stored(msgID)
	if !bytes.Equal(m.Raw, raw) {
		t.Fatalf("stored raw of %d bytes, want the %d delivered", len(m.Raw), len(raw))
	}
	a, err := fx.client.Attachment.Query().Where(attachment.MessageID(m.ID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Data, video) || a.Filename != "rec.mp4" {
		t.Errorf("attachment %q of %d bytes, want rec.mp4 of %d", a.Filename, len(a.Data), len(video))
	}
}
