package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
)

func testEntry(i int) queue.Entry {
	return queue.Entry{
		TipID: "tip" + strings.Repeat("x", i%7) + string(rune('a'+i%26)), Case: "ABCD-EFGH", Agency: "pe-lima",
		Region: "lima", Channel: "sms", Priority: queue.Normal,
		ReceivedAt: time.UnixMilli(1700000000000 + int64(i)).UTC(), ReplyCapable: i%2 == 0,
		Sealed: bytes.Repeat([]byte{byte(i)}, 100+i),
	}
}

func TestEntryRoundTrip(t *testing.T) {
	for _, e := range []queue.Entry{
		testEntry(0), testEntry(1),
		{TipID: "t", Priority: queue.Urgent, Sealed: []byte{0}, ReceivedAt: time.UnixMilli(0).UTC()},
		{TipID: "t", Priority: queue.Urgent, Sealed: []byte{0}, ReceivedAt: time.UnixMilli(-5).UTC()},
		// Version 2: with a side record (reply handle, scrub job, thread).
		{TipID: "t", Priority: queue.Urgent, Sealed: []byte{0}, ReceivedAt: time.UnixMilli(9).UTC(), Side: []byte("age-sealed side")},
	} {
		b := appendEntry(nil, e)
		got, err := decodeEntry(b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.TipID != e.TipID || got.Case != e.Case || got.Agency != e.Agency || got.Region != e.Region ||
			got.Channel != e.Channel || got.Priority != e.Priority || !got.ReceivedAt.Equal(e.ReceivedAt) ||
			got.ReplyCapable != e.ReplyCapable || !bytes.Equal(got.Sealed, e.Sealed) || !bytes.Equal(got.Side, e.Side) {
			t.Errorf("round trip: got %+v, want %+v", got, e)
		}
		// Every strict prefix and any trailing byte is refused.
		for i := range len(b) {
			if _, err := decodeEntry(b[:i]); err == nil {
				t.Errorf("prefix of %d bytes decoded", i)
			}
		}
		if _, err := decodeEntry(append(b, 0)); err == nil {
			t.Error("trailing byte accepted")
		}
	}
}

// TestEntryVersion1StillReads: records written before side records existed
// (version 1, as the old writer made them) still drain, and an entry
// without a side record is still written as version 1.
func TestEntryVersion1StillReads(t *testing.T) {
	// Version 1 of testEntry(1), byte for byte as the first writer made it.
	old := []byte{1, 5, 't', 'i', 'p', 'x', 'b', 9, 'A', 'B', 'C', 'D', '-', 'E', 'F', 'G', 'H', 7, 'p', 'e', '-', 'l', 'i', 'm', 'a',
		4, 'l', 'i', 'm', 'a', 3, 's', 'm', 's', 6, 'n', 'o', 'r', 'm', 'a', 'l'}
	old = binary.AppendVarint(old, 1700000000001)
	old = append(old, 0, 101)
	old = append(old, bytes.Repeat([]byte{1}, 101)...)
	e, err := decodeEntry(old)
	if err != nil {
		t.Fatalf("a version 1 record no longer decodes: %v", err)
	}
	if e.TipID != "tipxb" || e.Side != nil || len(e.Sealed) != 101 {
		t.Fatalf("decoded %+v", e)
	}
	if !bytes.Equal(appendEntry(nil, e), old) {
		t.Fatal("an entry without a side record is no longer written as version 1")
	}
	with := e
	with.Side = []byte{7}
	if b := appendEntry(nil, with); b[0] != entryVersionSide {
		t.Fatalf("an entry with a side record written as version %d", b[0])
	}
}

func segmentBytes(t testing.TB, entries ...queue.Entry) []byte {
	t.Helper()
	b := fileHeader()
	for _, e := range entries {
		b = appendRecord(b, appendEntry(nil, e))
	}
	return b
}

func readAll(t testing.TB, b []byte) ([]Record, *Reader, error) {
	t.Helper()
	r := NewReader(bytes.NewReader(b), fileHeaderSize, int64(len(b)))
	var out []Record
	for {
		rec, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, r, err
		}
		out = append(out, rec)
	}
}

func TestReaderTornTailAtEveryCut(t *testing.T) {
	full := segmentBytes(t, testEntry(1), testEntry(2), testEntry(3))
	recs, _, err := readAll(t, full)
	if err != nil || len(recs) != 3 {
		t.Fatalf("full segment: %d records, %v", len(recs), err)
	}
	lastStart := recs[2].Offset
	for cut := lastStart + 1; cut < int64(len(full)); cut++ {
		got, r, err := readAll(t, full[:cut])
		if !errors.Is(err, ErrTorn) {
			t.Fatalf("cut at %d: err %v, want ErrTorn", cut, err)
		}
		if len(got) != 2 || r.Offset() != lastStart || r.Skipped != 0 {
			t.Fatalf("cut at %d: %d records, torn at %d (want %d), skipped %d", cut, len(got), r.Offset(), lastStart, r.Skipped)
		}
	}
}

func TestReaderSkipsDamageInTheMiddle(t *testing.T) {
	full := segmentBytes(t, testEntry(1), testEntry(2), testEntry(3))
	recs, _, _ := readAll(t, full)
	for _, pos := range []int64{recs[1].Offset, recs[1].Offset + 5, recs[1].Offset + 9, recs[1].Offset + 13, recs[1].Offset + 40} {
		b := bytes.Clone(full)
		b[pos] ^= 0x40
		got, r, err := readAll(t, b)
		if err != nil {
			t.Fatalf("flip at %d: %v", pos, err)
		}
		if len(got) != 2 || got[0].Offset != recs[0].Offset || got[1].Offset != recs[2].Offset {
			t.Fatalf("flip at %d: got %d records", pos, len(got))
		}
		if r.Skipped != recs[1].Size {
			t.Errorf("flip at %d: skipped %d, want %d", pos, r.Skipped, recs[1].Size)
		}
	}
}

func TestFileHeader(t *testing.T) {
	if err := checkFileHeader(fileHeader()); err != nil {
		t.Fatal(err)
	}
	h := fileHeader()
	h[9]++ // version 2, checksum now wrong as well
	if checkFileHeader(h) == nil {
		t.Error("changed header accepted")
	}
	if checkFileHeader(fileHeader()[:10]) == nil {
		t.Error("short header accepted")
	}
}
