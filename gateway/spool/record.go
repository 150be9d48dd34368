package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/hotline-org/hotline/queue"
)

// On-disk format, version 1. All integers are big-endian.
//
//	segment = fileHeader record*
//	fileHeader (16 bytes) = "hlspool\x00" | version u16 | flags u16 (0) | crc32c of the 12 bytes before
//	record = recordHeader payload
//	recordHeader (16 bytes) = marker "\xa7hlR" | length u32 | crc32c(length bytes) | crc32c(payload)
//	payload = entry, encoded by appendEntry
//
// The header checksum lets a reader reject a false record start cheaply
// (without reading a payload of the claimed length) when it searches for the
// next record after a damaged one; the marker is what it searches for.
const (
	fileMagic        = "hlspool\x00"
	formatVersion    = 1
	fileHeaderSize   = 16
	recordHeaderSize = 16
	// MaxRecord bounds one record's payload: a sealed tip with attachments
	// stays far below it, and a damaged length can never make a reader
	// allocate more.
	MaxRecord = 64 << 20
)

var recordMarker = [4]byte{0xa7, 'h', 'l', 'R'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// errBadHeader: the file does not start with a spool header of a version
// this program reads.
var errBadHeader = errors.New("not a spool segment of a known version")

func fileHeader() []byte {
	h := make([]byte, fileHeaderSize)
	copy(h, fileMagic)
	binary.BigEndian.PutUint16(h[8:], formatVersion)
	binary.BigEndian.PutUint32(h[12:], checksum(h[:12]))
	return h
}

func checkFileHeader(h []byte) error {
	if len(h) < fileHeaderSize || string(h[:8]) != fileMagic ||
		binary.BigEndian.Uint32(h[12:16]) != checksum(h[:12]) ||
		binary.BigEndian.Uint16(h[8:10]) != formatVersion {
		return errBadHeader
	}
	return nil
}

// appendRecord frames payload as one record.
func appendRecord(dst, payload []byte) []byte {
	var h [recordHeaderSize]byte
	copy(h[:4], recordMarker[:])
	binary.BigEndian.PutUint32(h[4:8], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[8:12], checksum(h[4:8]))
	binary.BigEndian.PutUint32(h[12:16], checksum(payload))
	return append(append(dst, h[:]...), payload...)
}

// parseRecordHeader checks a record header and returns the payload length
// and checksum.
func parseRecordHeader(h []byte) (length, sum uint32, ok bool) {
	if len(h) < recordHeaderSize || !bytes.Equal(h[:4], recordMarker[:]) ||
		binary.BigEndian.Uint32(h[8:12]) != checksum(h[4:8]) {
		return 0, 0, false
	}
	length = binary.BigEndian.Uint32(h[4:8])
	if length > MaxRecord {
		return 0, 0, false
	}
	return length, binary.BigEndian.Uint32(h[12:16]), true
}

// Record is one valid record found by a Reader.
type Record struct {
	Offset  int64 // where its header starts
	Size    int64 // header and payload
	Payload []byte
}

// ErrTorn reports that the rest of a segment, from Reader.Offset on, holds
// no complete valid record: the tail of an append cut short by a crash.
var ErrTorn = errors.New("torn record at the end of the segment")

// Reader reads the records of one segment body (after its file header). It
// never fails on damaged data: a record whose header or payload checksum does
// not match is skipped by searching for the next valid record, and a tail
// with none is reported as ErrTorn. Memory is bounded by MaxRecord.
type Reader struct {
	r    io.ReaderAt
	off  int64
	size int64
	// Skipped counts bytes passed over between valid records (damage in
	// the middle of a segment; a torn tail is not counted).
	Skipped int64
	hdr     [recordHeaderSize]byte
}

// NewReader reads records from r between off and size.
func NewReader(r io.ReaderAt, off, size int64) *Reader {
	return &Reader{r: r, off: off, size: size}
}

// Offset is where the next read starts; after ErrTorn, where the torn tail
// starts.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next valid record, io.EOF at a clean end, or ErrTorn.
// Other errors are I/O errors of the underlying reader.
func (r *Reader) Next() (Record, error) {
	if r.off >= r.size {
		return Record{}, io.EOF
	}
	rec, ok, err := r.at(r.off)
	if err != nil {
		return Record{}, err
	}
	if ok {
		r.off += rec.Size
		return rec, nil
	}
	// Damaged: look for the next record start that checks out.
	p := r.off + 1
	for {
		p, err = r.findMarker(p)
		if err != nil {
			return Record{}, err
		}
		if p < 0 {
			return Record{}, ErrTorn
		}
		rec, ok, err := r.at(p)
		if err != nil {
			return Record{}, err
		}
		if ok {
			r.Skipped += p - r.off
			r.off = p + rec.Size
			return rec, nil
		}
		p++
	}
}

// at parses the record at off; ok is false if there is no valid one there.
func (r *Reader) at(off int64) (Record, bool, error) {
	if r.size-off < recordHeaderSize {
		return Record{}, false, nil
	}
	if _, err := r.r.ReadAt(r.hdr[:], off); err != nil {
		return Record{}, false, fmt.Errorf("failed to read record header: %w", err)
	}
	length, sum, ok := parseRecordHeader(r.hdr[:])
	if !ok || int64(length) > r.size-off-recordHeaderSize {
		return Record{}, false, nil
	}
	payload := make([]byte, length)
	if _, err := r.r.ReadAt(payload, off+recordHeaderSize); err != nil {
		return Record{}, false, fmt.Errorf("failed to read record: %w", err)
	}
	if checksum(payload) != sum {
		return Record{}, false, nil
	}
	return Record{Offset: off, Size: recordHeaderSize + int64(length), Payload: payload}, true, nil
}

// findMarker returns the offset of the next record marker at or after from,
// or -1.
func (r *Reader) findMarker(from int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, min(int64(chunk+len(recordMarker)-1), max(r.size-from, 0)))
	for from < r.size {
		n := min(int64(len(buf)), r.size-from)
		if _, err := r.r.ReadAt(buf[:n], from); err != nil {
			return 0, fmt.Errorf("failed to read segment: %w", err)
		}
		if i := bytes.Index(buf[:n], recordMarker[:]); i >= 0 {
			return from + int64(i), nil
		}
		if n < int64(len(buf)) {
			break
		}
		from += chunk
	}
	return -1, nil
}

// entryVersion is the first byte of an encoded entry. Version 2 is
// version 1 followed by the entry's side record (queue.Entry.Side, sealed
// by its channel); an entry without one is still written as version 1, and
// both are read.
const (
	entryVersion     = 1
	entryVersionSide = 2
)

// errBadEntry: a record's payload (whose checksum matched) is not an entry
// this program reads.
var errBadEntry = errors.New("record is not a queue entry of a known version")

// appendEntry encodes the clear metadata and the ciphertexts of e (the tip,
// and its side record sealed to the gateway's key): nothing else of a tip
// is ever in the spool.
func appendEntry(dst []byte, e queue.Entry) []byte {
	version := byte(entryVersion)
	if len(e.Side) > 0 {
		version = entryVersionSide
	}
	dst = append(dst, version)
	for _, s := range []string{e.TipID, e.Case, e.Agency, e.Region, e.Channel, string(e.Priority)} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendVarint(dst, e.ReceivedAt.UnixMilli())
	reply := byte(0)
	if e.ReplyCapable {
		reply = 1
	}
	dst = append(dst, reply)
	dst = binary.AppendUvarint(dst, uint64(len(e.Sealed)))
	dst = append(dst, e.Sealed...)
	if version == entryVersionSide {
		dst = binary.AppendUvarint(dst, uint64(len(e.Side)))
		dst = append(dst, e.Side...)
	}
	return dst
}

// decodeEntry is the inverse of appendEntry; it rejects trailing bytes.
func decodeEntry(b []byte) (queue.Entry, error) {
	if len(b) == 0 || (b[0] != entryVersion && b[0] != entryVersionSide) {
		return queue.Entry{}, errBadEntry
	}
	version := b[0]
	orig := b
	b = b[1:]
	bytesField := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, true
	}
	var s [6]string
	for i := range s {
		v, ok := bytesField()
		if !ok {
			return queue.Entry{}, errBadEntry
		}
		s[i] = string(v)
	}
	ms, k := binary.Varint(b)
	if k <= 0 || len(b) < k+1 || b[k] > 1 {
		return queue.Entry{}, errBadEntry
	}
	reply := b[k] == 1
	b = b[k+1:]
	sealed, ok := bytesField()
	if !ok {
		return queue.Entry{}, errBadEntry
	}
	var side []byte
	if version == entryVersionSide {
		if side, ok = bytesField(); !ok || len(side) == 0 {
			return queue.Entry{}, errBadEntry
		}
		side = bytes.Clone(side)
	}
	if len(b) != 0 {
		return queue.Entry{}, errBadEntry
	}
	e := queue.Entry{
		TipID: s[0], Case: s[1], Agency: s[2], Region: s[3], Channel: s[4], Priority: queue.Priority(s[5]),
		ReceivedAt: time.UnixMilli(ms).UTC(), ReplyCapable: reply, Sealed: bytes.Clone(sealed), Side: side,
	}
	// One encoding per entry: varints written longer than needed are not
	// something this writer produces.
	if !bytes.Equal(appendEntry(make([]byte, 0, len(orig)), e), orig) {
		return queue.Entry{}, errBadEntry
	}
	return e, nil
}
