package triage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/hotline-org/hotline/gateway"
)

// mediaExt is the file extension of each content type the gateway takes;
// any other is saved as .bin, which no viewer opens by itself.
var mediaExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp", "image/heic": ".heic", "image/heif": ".heif",
	"audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/ogg": ".ogg", "audio/amr": ".amr",
	"audio/mp4": ".m4a", "audio/aac": ".aac", "audio/3gpp": ".3gp",
	"video/mp4": ".mp4", "video/3gpp": ".3gp", "video/quicktime": ".mov",
	"application/pdf": ".pdf",
}

// savedMedia is one item written by --save-media, or why it was not.
type savedMedia struct {
	// Message is the tip id of a case's later message the item is of
	// (empty: the first message's).
	Message string `json:"message,omitempty"`
	Item    int    `json:"item"`
	Path    string `json:"path,omitempty"`
	Bytes   int    `json:"bytes,omitempty"`
	Error   string `json:"error,omitempty"`
}

// safeName keeps the letters and digits of a gateway id, for a file name.
func safeName(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "tip"
	}
	return b.String()
}

// saveMedia writes each media item of a report into dir (made 0700 if it
// does not exist), as tip-ID-N.EXT, mode 0600, never over an existing
// file. The name is made from the tip id, the item's place and its
// content type: nothing the reporter chose reaches the file system. Writes
// go through an os.Root, so no name can leave dir.
func saveMedia(dir, tipID string, items []gateway.Media) ([]savedMedia, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot make the media directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot open the media directory: %w", err)
	}
	defer root.Close()
	var out []savedMedia
	for i, m := range items {
		s := savedMedia{Item: i + 1}
		if len(m.Data) == 0 {
			s.Error = "no content in the report"
			if m.Error != "" {
				s.Error = m.Error
			}
			out = append(out, s)
			continue
		}
		ext, ok := mediaExt[strings.ToLower(m.ContentType)]
		if !ok {
			ext = ".bin"
		}
		base := "tip-" + safeName(tipID) + "-" + strconv.Itoa(i+1)
		name, err := writeNew(root, base, ext, m.Data)
		if err != nil {
			return out, fmt.Errorf("cannot save media %d: %w", i+1, err)
		}
		s.Path, s.Bytes = dir+string(os.PathSeparator)+name, len(m.Data)
		out = append(out, s)
	}
	return out, nil
}

// writeNew writes data to base+ext in root, or base-2+ext... if taken.
func writeNew(root *os.Root, base, ext string, data []byte) (string, error) {
	for n := 1; n <= 100; n++ {
		name := base + ext
		if n > 1 {
			name = base + "-" + strconv.Itoa(n) + ext
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, werr := f.Write(data)
		serr := f.Sync()
		if cerr := f.Close(); werr == nil && serr == nil {
			werr = cerr
		} else if werr == nil {
			werr = serr
		}
		if werr != nil {
			root.Remove(name)
			return "", werr
		}
		return name, nil
	}
	return "", errors.New("too many files of this tip in the directory")
}
