package desk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/attachment"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// Limits on the files a requester attaches on the status page. Attachments
// live in the database, so they are kept small.
const (
	MaxUploads      = 5
	MaxUploadSize   = 10 << 20
	MaxUploadsTotal = 25 << 20
	// maxFilenameRunes keeps a stored name readable in a list.
	maxFilenameRunes = 120
)

// Upload is one file sent with the add-information form.
type Upload struct {
	// Filename is the name the browser gave; it is sanitised before use.
	Filename string
	// ContentType is the browser's claim; when missing or unparsable it is
	// sniffed from Data.
	ContentType string
	Data        []byte
}

// AttachmentInfo is what the status page shows of an attachment.
type AttachmentInfo struct {
	Filename string
	Size     int64
}

// checkUploads validates files against the limits and returns them with
// clean names and content types, or FieldErrors{"files": …}.
func checkUploads(files []Upload) ([]Upload, error) {
	if len(files) > MaxUploads {
		return nil, FieldErrors{"files": fmt.Sprintf("Attach at most %d files at a time (you chose %d).", MaxUploads, len(files))}
	}
	var total int
	out := make([]Upload, 0, len(files))
	for _, f := range files {
		name := SanitizeFilename(f.Filename)
		if len(f.Data) > MaxUploadSize {
			return nil, FieldErrors{"files": fmt.Sprintf("%s is larger than %s; attach a smaller file.", name, formatMiB(MaxUploadSize))}
		}
		total += len(f.Data)
		out = append(out, Upload{Filename: name, ContentType: contentType(f.ContentType, f.Data), Data: f.Data})
	}
	if total > MaxUploadsTotal {
		return nil, FieldErrors{"files": fmt.Sprintf("The files add up to more than %s; attach fewer or smaller files.", formatMiB(MaxUploadsTotal))}
	}
	return out, nil
}

// SanitizeFilename reduces a browser-supplied name to its last path
// element without control or path characters, at most 120 characters;
// what is left empty becomes "attachment".
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r), strings.ContainsRune(`:*?"<>|`, r):
			return -1
		}
		return r
	}, name)
	// Leading dots would hide the file or make it "..".
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxFilenameRunes {
		name = string([]rune(name)[:maxFilenameRunes])
	}
	if name == "" {
		return "attachment"
	}
	return name
}

// contentType keeps a parsable claimed type and sniffs the rest.
func contentType(claimed string, data []byte) string {
	if claimed != "" {
		if mt, params, err := mime.ParseMediaType(claimed); err == nil && mt != "application/octet-stream" {
			return mime.FormatMediaType(mt, params)
		}
	}
	return http.DetectContentType(data)
}

func formatMiB(n int) string { return fmt.Sprintf("%d MiB", n>>20) }

// storeAttachments adds files to message messageID.
func storeAttachments(ctx context.Context, tx *store.Tx, messageID int, files []Upload) error {
	if len(files) == 0 {
		return nil
	}
	builders := make([]*ent.AttachmentCreate, 0, len(files))
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		builders = append(builders, tx.Ent.Attachment.Create().
			SetMessageID(messageID).
			SetFilename(f.Filename).
			SetContentType(f.ContentType).
			SetSize(int64(len(f.Data))).
			SetSha256(hex.EncodeToString(sum[:])).
			SetData(f.Data))
	}
	if err := tx.Ent.Attachment.CreateBulk(builders...).Exec(ctx); err != nil {
		return fmt.Errorf("store attachments: %w", err)
	}
	return nil
}

// attachmentsOf lists the attachments of messages by message ID, without
// their data.
func attachmentsOf(ctx context.Context, client *ent.Client, messageIDs []int) (map[int][]AttachmentInfo, error) {
	out := map[int][]AttachmentInfo{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	rows, err := client.Attachment.Query().
		Where(attachment.MessageIDIn(messageIDs...)).
		Order(ent.Asc(attachment.FieldID)).
		Select(attachment.FieldMessageID, attachment.FieldFilename, attachment.FieldSize).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	for _, a := range rows {
		out[a.MessageID] = append(out[a.MessageID], AttachmentInfo{Filename: a.Filename, Size: a.Size})
	}
	return out, nil
}
