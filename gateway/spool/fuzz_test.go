package spool

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader: any bytes as a segment body. The reader never panics, never
// loops, and every record it returns is really in the input, framed and
// checksummed as the writer would have written it; an entry decoded from one
// encodes back to the same payload.
func FuzzReader(f *testing.F) {
	good := segmentBytes(f, testEntry(1), testEntry(2), testEntry(3))
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add(fileHeader())
	flipped := bytes.Clone(good)
	flipped[fileHeaderSize+20] ^= 1
	f.Add(flipped)
	f.Add(append(bytes.Clone(good[:fileHeaderSize+recordHeaderSize]), good...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		start := int64(min(len(data), fileHeaderSize))
		r := NewReader(bytes.NewReader(data), start, int64(len(data)))
		prevEnd := start
		for i := 0; ; i++ {
			if i > len(data) {
				t.Fatal("more records than bytes: the reader loops")
			}
			rec, err := r.Next()
			if errors.Is(err, io.EOF) || errors.Is(err, ErrTorn) {
				if r.Offset() < prevEnd || r.Offset() > int64(len(data)) {
					t.Fatalf("end offset %d outside [%d, %d]", r.Offset(), prevEnd, len(data))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if rec.Offset < prevEnd {
				t.Fatalf("record at %d overlaps the previous one ending at %d", rec.Offset, prevEnd)
			}
			want := appendRecord(nil, rec.Payload)
			if int64(len(want)) != rec.Size || !bytes.Equal(data[rec.Offset:rec.Offset+rec.Size], want) {
				t.Fatalf("record at %d is not a valid record of the input", rec.Offset)
			}
			if e, err := decodeEntry(rec.Payload); err == nil {
				if !bytes.Equal(appendEntry(nil, e), rec.Payload) {
					t.Fatalf("entry at %d does not encode back to its payload", rec.Offset)
				}
			}
			prevEnd = rec.Offset + rec.Size
		}
	})
}
