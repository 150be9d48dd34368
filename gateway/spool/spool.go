// Package spool keeps sealed tips on local disk while Redis does not answer,
// so that the gateway can still acknowledge them, and hands them to Redis in
// the order they came when it is back.
//
// What it protects against:
//   - losing a tip the reporter was told had arrived: Append returns only once
//     the record is fsync'd (concurrent appends share one fsync);
//   - a crash in the middle of an append: the torn last record is found when
//     the spool is opened again and cut off; every record before it is kept,
//     and damage in the middle of a file skips only the damaged bytes;
//   - a crash in the middle of a drain: drained segments are deleted only after
//     every record in them was published, and publishing is idempotent by tip
//     id, so records published again after a restart are not queued twice;
//   - a disk filled by a long outage: the spool is bounded (MaxBytes); when it
//     is full Append fails and the gateway answers with an error, so Twilio
//     uses its fallback URL;
//   - two gateways sharing one spool: the directory is locked.
//
// The spool holds exactly what Redis would: ciphertext and the clear metadata
// of queue.Entry (ids, agency, coarse region, channel, priority, time), and
// the entry's side record (reply handle, scrub job, thread), sealed to the
// gateway's own reply key. Its files are 0600 in a 0700 directory.
//
// The spool is a directory of segments, NNNNNNNNNNNNNNNN.spool, appended to one
// at a time (the active segment). A drain seals the active segment (a new one
// takes further appends), publishes the sealed segments' records oldest
// first, and deletes each segment once all of it is published.
package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/queue"
)

// DefaultMaxBytes bounds the spool's files: at a few KiB per sealed tip,
// tens of thousands of tips, hours of an outage at a busy line.
const DefaultMaxBytes = 256 << 20

// headroom is the free space below which the spool no longer counts as able
// to take a tip: the largest webhook body, sealed, fits in it.
const headroom = 128 << 10

// Errors callers match on.
var (
	ErrFull   = fault.New(fault.Unavailable, "spool is full")
	ErrClosed = fault.New(fault.Unavailable, "spool is closed")
	ErrLocked = errors.New("spool directory is in use by another process")
)

// Options configures a Spool.
type Options struct {
	// MaxBytes bounds the size of all segments together.
	MaxBytes int64
	Logger   *slog.Logger
}

// Spool is an fsync'd, bounded, append-only store of queue entries. It is
// safe for concurrent use.
type Spool struct {
	dir  string
	opt  Options
	lock *os.File

	mu      sync.Mutex
	active  *segment
	sealed  []*segment // oldest first
	total   int64      // bytes of all segments
	nextSeq uint64
	closed  bool

	drainMu  sync.Mutex // one drain at a time
	pending  atomic.Int64
	appended atomic.Int64
	drained  atomic.Int64
	oldest   atomic.Int64 // see oldest.go
}

type segment struct {
	seq     uint64
	path    string
	size    int64 // bytes written, header included
	records int64 // valid records in it

	// Active segment only.
	f       *os.File
	written atomic.Int64 // size, for syncTo
	failed  atomic.Bool  // a write or fsync failed: append to a new segment
	syncMu  sync.Mutex
	synced  int64
	syncErr error

	// Drain progress (sealed segments, drainer only).
	drainOff int64
	consumed int64 // records published or given up on
	damaged  bool  // bytes or records had to be skipped: keep the file for an operator
}

// Open opens (creating it if needed) the spool in dir, repairs a torn last
// record left by a crash, and locks the directory.
func Open(dir string, opt Options) (*Spool, error) {
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the spool directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to read the spool directory: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("spool directory is readable by others and cannot be made private: %w", err)
		}
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open the spool lock: %w", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, err
	}
	s := &Spool{dir: dir, opt: opt, lock: lock, nextSeq: 1}
	if err := s.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	s.noteRecovered()
	return s, nil
}

// Dir is the spool directory.
func (s *Spool) Dir() string { return s.dir }

const segmentSuffix = ".spool"

func (s *Spool) segmentPath(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016d%s", seq, segmentSuffix))
}

// recover finds the segments left by earlier runs, repairs them and queues
// them for draining.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("failed to list the spool directory: %w", err)
	}
	var seqs []uint64
	for _, de := range entries {
		name, _, _ := strings.Cut(de.Name(), ".")
		seq, err := strconv.ParseUint(name, 10, 64)
		if err != nil || len(name) != 16 {
			continue
		}
		s.nextSeq = max(s.nextSeq, seq+1)
		if de.Name() == name+segmentSuffix {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	changed := false
	for _, seq := range seqs {
		seg, ch, err := s.recoverSegment(seq)
		changed = changed || ch
		if err != nil {
			return err
		}
		if seg != nil {
			s.sealed = append(s.sealed, seg)
			s.total += seg.size
			s.pending.Add(seg.records)
		}
	}
	if changed {
		return syncDir(s.dir)
	}
	return nil
}

// recoverSegment checks one segment. It returns nil for a segment with no
// records (removed) or one that is not readable as a segment (renamed aside).
func (s *Spool) recoverSegment(seq uint64) (*segment, bool, error) {
	path := s.segmentPath(seq)
	log := s.opt.Logger.With("segment", seq)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, false, fmt.Errorf("failed to open spool segment %d: %w", seq, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("failed to read spool segment %d: %w", seq, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, false, fmt.Errorf("failed to make spool segment %d private: %w", seq, err)
		}
	}
	size := fi.Size()
	if size < fileHeaderSize {
		// Cut short while being created: records come only after a
		// complete, fsync'd header, so there are none.
		log.Warn("spool: removing a segment cut short at creation", "bytes", size)
		return nil, true, os.Remove(path)
	}
	hdr := make([]byte, fileHeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, false, fmt.Errorf("failed to read spool segment %d: %w", seq, err)
	}
	if err := checkFileHeader(hdr); err != nil {
		log.Error("spool: segment has no valid header; kept aside for an operator", "bytes", size)
		return nil, true, os.Rename(path, path+".corrupt")
	}
	r := NewReader(f, fileHeaderSize, size)
	var records int64
	for {
		_, err := r.Next()
		if err == nil {
			records++
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, ErrTorn) {
			// The append a crash cut short: its caller was never told the
			// tip was kept. Cut it off so the file ends on a record.
			log.Warn("spool: torn last record cut off", "offset", r.Offset(), "bytes", size-r.Offset())
			if err := f.Truncate(r.Offset()); err != nil {
				return nil, false, fmt.Errorf("failed to repair spool segment %d: %w", seq, err)
			}
			if err := f.Sync(); err != nil {
				return nil, false, fmt.Errorf("failed to repair spool segment %d: %w", seq, err)
			}
			size = r.Offset()
			break
		}
		return nil, false, fmt.Errorf("failed to read spool segment %d: %w", seq, err)
	}
	seg := &segment{seq: seq, path: path, size: size, records: records, drainOff: fileHeaderSize}
	if r.Skipped > 0 {
		seg.damaged = true
		log.Error("spool: damaged bytes in the middle of a segment skipped", "bytes", r.Skipped, "records", records)
	}
	if records == 0 && !seg.damaged {
		return nil, true, os.Remove(path)
	}
	return seg, size != fi.Size(), nil
}

// Append stores e durably: it returns nil only once the record is fsync'd.
func (s *Spool) Append(e queue.Entry) error {
	payload := appendEntry(nil, e)
	if len(payload) > MaxRecord {
		return fmt.Errorf("%w: entry of %d bytes is larger than a record may be", ErrFull, len(payload))
	}
	rec := appendRecord(make([]byte, 0, recordHeaderSize+len(payload)), payload)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	need := int64(len(rec))
	if s.active == nil || s.active.failed.Load() {
		need += fileHeaderSize
	}
	if s.total+need > s.opt.MaxBytes {
		s.mu.Unlock()
		return ErrFull
	}
	if s.active == nil || s.active.failed.Load() {
		if err := s.newActiveLocked(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	seg := s.active
	if _, err := seg.f.Write(rec); err != nil {
		// Cut off whatever part was written, so the next record starts
		// clean; if even that fails, the next append starts a new segment
		// and this one's tail is skipped as torn when it is drained.
		if terr := seg.f.Truncate(seg.size); terr != nil {
			seg.failed.Store(true)
		}
		s.mu.Unlock()
		return fmt.Errorf("failed to append to the spool: %w", err)
	}
	seg.size += int64(len(rec))
	seg.records++
	seg.written.Store(seg.size)
	s.total += int64(len(rec))
	s.pending.Add(1)
	s.noteAppended(e)
	end := seg.size
	s.mu.Unlock()
	if err := seg.syncTo(end); err != nil {
		return fmt.Errorf("failed to sync the spool: %w", err)
	}
	s.appended.Add(1)
	return nil
}

// syncTo returns once the segment is fsync'd at least up to end. Appends
// waiting here at the same time are covered by one fsync.
func (seg *segment) syncTo(end int64) error {
	seg.syncMu.Lock()
	defer seg.syncMu.Unlock()
	if seg.synced >= end {
		return nil
	}
	if seg.syncErr != nil {
		return seg.syncErr
	}
	target := seg.written.Load()
	if err := seg.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the dirty
		// pages: nothing more is trusted to this file.
		seg.syncErr = err
		seg.failed.Store(true)
		return err
	}
	seg.synced = target
	return nil
}

// newActiveLocked seals the active segment, if any, and starts a new one.
func (s *Spool) newActiveLocked() error {
	if s.active != nil {
		s.sealActiveLocked()
	}
	seq := s.nextSeq
	path := s.segmentPath(seq)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create a spool segment: %w", err)
	}
	s.nextSeq++
	fail := func(err error) error {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("failed to create a spool segment: %w", err)
	}
	if _, err := f.Write(fileHeader()); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := syncDir(s.dir); err != nil {
		return fail(err)
	}
	seg := &segment{seq: seq, path: path, f: f, size: fileHeaderSize, synced: fileHeaderSize, drainOff: fileHeaderSize}
	seg.written.Store(fileHeaderSize)
	s.active = seg
	s.total += fileHeaderSize
	return nil
}

// sealActiveLocked closes the active segment for appends and queues it for
// draining (or removes it if it holds no record).
func (s *Spool) sealActiveLocked() {
	seg := s.active
	s.active = nil
	seg.syncMu.Lock()
	if seg.synced < seg.size && seg.syncErr == nil {
		if err := seg.f.Sync(); err != nil {
			seg.syncErr = err
		} else {
			seg.synced = seg.size
		}
	}
	seg.f.Close()
	seg.f = nil
	seg.syncMu.Unlock()
	if seg.records == 0 {
		os.Remove(seg.path)
		s.total -= seg.size
		return
	}
	s.sealed = append(s.sealed, seg)
}

// Drain publishes the spooled entries, oldest first, until the spool is
// empty, publish fails, or ctx ends. A segment is deleted once every record
// in it is published. It returns how many entries were published.
//
// An entry that publish rejects with queue.ErrInvalid, or a record that does
// not decode, would never go through: it is skipped and the segment kept
// aside (renamed *.corrupt) for an operator instead of deleted.
func (s *Spool) Drain(ctx context.Context, publish func(context.Context, queue.Entry) error) (int, error) {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	n := 0
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return n, ErrClosed
		}
		if len(s.sealed) == 0 && s.active != nil && s.active.records > 0 {
			s.sealActiveLocked()
		}
		if len(s.sealed) == 0 {
			s.mu.Unlock()
			return n, nil
		}
		seg := s.sealed[0]
		s.mu.Unlock()

		k, err := s.drainSegment(ctx, seg, publish)
		n += k
		if err != nil {
			return n, err
		}
		s.mu.Lock()
		s.sealed = s.sealed[1:]
		s.total -= seg.size
		s.mu.Unlock()
		s.notePending(s.pending.Add(-(seg.records - seg.consumed)))
		if err := s.retire(seg); err != nil {
			return n, err
		}
	}
}

func (s *Spool) drainSegment(ctx context.Context, seg *segment, publish func(context.Context, queue.Entry) error) (int, error) {
	f, err := os.Open(seg.path)
	if err != nil {
		return 0, fmt.Errorf("failed to open spool segment %d: %w", seg.seq, err)
	}
	defer f.Close()
	log := s.opt.Logger.With("segment", seg.seq)
	r := NewReader(f, seg.drainOff, seg.size)
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		rec, err := r.Next()
		switch {
		case errors.Is(err, io.EOF):
			return n, nil
		case errors.Is(err, ErrTorn):
			// Only a failed write leaves this behind in a sealed segment;
			// that append was answered with an error.
			log.Warn("spool: torn record at the end of a segment skipped", "offset", r.Offset())
			return n, nil
		case err != nil:
			return n, fmt.Errorf("failed to read spool segment %d: %w", seg.seq, err)
		}
		if r.Skipped > 0 && !seg.damaged {
			seg.damaged = true
			log.Error("spool: damaged bytes skipped", "bytes", r.Skipped)
		}
		e, err := decodeEntry(rec.Payload)
		if err == nil {
			err = publish(ctx, e)
			if err != nil && !errors.Is(err, queue.ErrInvalid) {
				return n, err
			}
		}
		if err != nil {
			seg.damaged = true
			log.Error("spool: record cannot be queued; segment kept aside", "offset", rec.Offset, "err", err)
		} else {
			n++
			s.drained.Add(1)
		}
		seg.drainOff = r.Offset()
		seg.consumed++
		s.notePending(s.pending.Add(-1))
	}
}

// retire deletes a drained segment, or keeps a damaged one aside.
func (s *Spool) retire(seg *segment) error {
	if seg.damaged {
		s.opt.Logger.Error("spool: drained segment with damaged records kept aside", "segment", seg.seq)
		if err := os.Rename(seg.path, seg.path+".corrupt"); err != nil {
			return fmt.Errorf("failed to set spool segment %d aside: %w", seg.seq, err)
		}
	} else if err := os.Remove(seg.path); err != nil {
		return fmt.Errorf("failed to remove drained spool segment %d: %w", seg.seq, err)
	}
	return syncDir(s.dir)
}

// Stats describes the spool.
type Stats struct {
	Records  int64 // entries waiting to be drained
	Bytes    int64 // size of all segments
	MaxBytes int64
	Appended int64 // entries appended since Open
	Drained  int64 // entries published since Open
}

// Stats returns the spool's current figures.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	total := s.total
	s.mu.Unlock()
	return Stats{Records: s.pending.Load(), Bytes: total, MaxBytes: s.opt.MaxBytes,
		Appended: s.appended.Load(), Drained: s.drained.Load()}
}

// Empty reports whether no entry waits to be drained.
func (s *Spool) Empty() bool { return s.pending.Load() == 0 }

// CanTake reports whether the spool could take a tip now.
func (s *Spool) CanTake() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && s.total+headroom <= s.opt.MaxBytes
}

// Close syncs and closes the active segment and unlocks the directory. It
// waits for a drain in progress (cancel its context first).
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var err error
	if s.active != nil {
		seg := s.active
		s.sealActiveLocked()
		err = seg.syncErr
	}
	s.mu.Unlock()
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	if derr := syncDir(s.dir); err == nil {
		err = derr
	}
	if cerr := s.lock.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes file creations, renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to open the spool directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("failed to sync the spool directory: %w", err)
	}
	return nil
}
