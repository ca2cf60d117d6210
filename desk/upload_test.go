package desk_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/attachment"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestAddInformationStoresAttachments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newIntake(t)
	client := testdb.Store(t).Ent
	ref, token := submitted(t, fx)

	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	files := []desk.Upload{
		{Filename: `C:\Users\grace\..\passport scan.png`, Data: png},
		{Filename: "../../etc/notes.txt", ContentType: "text/plain; charset=utf-8", Data: []byte("old phone serial 1234")},
	}
	// Files alone, without text, are enough.
	if err := fx.in.AddInformation(ctx, ref, token, "", files, desk.Origin{}); err != nil {
		t.Fatal(err)
	}

	c := client.SupportCase.Query().Where(supportcase.Reference(ref)).OnlyX(ctx)
	rows := client.Attachment.Query().
		Where(attachment.HasMessageWith(message.CaseID(c.ID), message.VisibilityEQ(message.VisibilityPublic))).
		Order(attachment.ByID()).AllX(ctx)
	if len(rows) != 2 {
		t.Fatalf("%d attachments, want 2", len(rows))
	}
	want := []struct{ name, ctype string }{{"passport scan.png", "image/png"}, {"notes.txt", "text/plain; charset=utf-8"}}
	for i, a := range rows {
		sum := sha256.Sum256(files[i].Data)
		if a.Filename != want[i].name || a.ContentType != want[i].ctype || a.Size != int64(len(files[i].Data)) ||
			a.Sha256 != hex.EncodeToString(sum[:]) || !bytes.Equal(a.Data, files[i].Data) {
			t.Errorf("attachment %d: %q %q size %d sha %s", i, a.Filename, a.ContentType, a.Size, a.Sha256)
		}
	}

	v, err := fx.in.Status(ctx, ref, token)
	if err != nil {
		t.Fatal(err)
	}
	last := v.Messages[len(v.Messages)-1]
	if !last.FromRequester || len(last.Attachments) != 2 || last.Attachments[0].Filename != "passport scan.png" || last.Attachments[1].Size != 21 {
		t.Errorf("last message %+v", last)
	}
}

func TestAddInformationRefusesTooManyOrTooLargeFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newIntake(t)
	client := testdb.Store(t).Ent
	ref, token := submitted(t, fx)

	small := desk.Upload{Filename: "a.txt", Data: []byte("a")}
	big := make([]byte, desk.MaxUploadSize)
	for name, files := range map[string][]desk.Upload{
		"too many":  {small, small, small, small, small, small},
		"too large": {{Filename: "huge.bin", Data: make([]byte, desk.MaxUploadSize+1)}},
		"too much":  {{Filename: "1", Data: big}, {Filename: "2", Data: big}, {Filename: "3", Data: big}},
	} {
		var fe desk.FieldErrors
		if err := fx.in.AddInformation(ctx, ref, token, "See the files.", files, desk.Origin{}); !errors.As(err, &fe) || fe["files"] == "" {
			t.Errorf("%s: error %v, want FieldErrors on files", name, err)
		}
	}
	c := client.SupportCase.Query().Where(supportcase.Reference(ref)).OnlyX(ctx)
	if n := client.Message.Query().Where(message.CaseID(c.ID)).CountX(ctx); n != 1 {
		t.Errorf("%d messages after refused uploads, want only the explanation", n)
	}
	if n := client.Attachment.Query().Where(attachment.HasMessageWith(message.CaseID(c.ID))).CountX(ctx); n != 0 {
		t.Errorf("%d attachments stored", n)
	}
}

func TestSanitizeFilename(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"report.pdf":       "report.pdf",
		"../../etc/passwd": "passwd",
		`C:\temp\scan.jpg`: "scan.jpg",
		"..":               "attachment",
		"":                 "attachment",
		".hidden":          "hidden",
		"a\x00b\nc<d>.txt": "ab cd.txt",
		"tab\tname.txt":    "tab name.txt",
		"bad\xffutf8.txt":  "badutf8.txt",
	} {
		if got := desk.SanitizeFilename(in); got != want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}
