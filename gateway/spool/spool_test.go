package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/hotline-org/hotline/queue"
)

func openT(t testing.TB, dir string, opt Options) *Spool {
	t.Helper()
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// collector is a publish function that records what it was given.
type collector struct {
	mu   sync.Mutex
	tips []string
	// failAt makes the n-th call (1-based) fail.
	failAt int
	calls  int
}

func (c *collector) publish(ctx context.Context, e queue.Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls == c.failAt {
		return fmt.Errorf("%w: test failure", queue.ErrUnavailable)
	}
	c.tips = append(c.tips, e.TipID)
	return nil
}

func entryN(i int) queue.Entry {
	e := testEntry(i)
	e.TipID = fmt.Sprintf("tip%04d", i)
	return e
}

func appendN(t testing.TB, s *Spool, from, to int) []string {
	t.Helper()
	var ids []string
	for i := from; i < to; i++ {
		if err := s.Append(entryN(i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		ids = append(ids, entryN(i).TipID)
	}
	return ids
}

func segments(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.spool"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// closedSegment writes n tips to a new spool and closes it, for a test to
// damage its one segment file.
func closedSegment(t testing.TB, n int) (dir, seg string, ids []string) {
	t.Helper()
	dir = t.TempDir()
	s := openT(t, dir, Options{})
	ids = appendN(t, s, 0, n)
	s.Close()
	return dir, segments(t, dir)[0], ids
}

func TestAppendDrainInOrder(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	want := appendN(t, s, 0, 50)
	if st := s.Stats(); st.Records != 50 || st.Appended != 50 || st.Bytes <= 50*100 {
		t.Fatalf("stats after append: %+v", st)
	}
	var c collector
	n, err := s.Drain(context.Background(), c.publish)
	if err != nil || n != 50 {
		t.Fatalf("drain: %d, %v", n, err)
	}
	if !slices.Equal(c.tips, want) {
		t.Fatalf("drained out of order:\n%v\nwant\n%v", c.tips, want)
	}
	if st := s.Stats(); st.Records != 0 || st.Drained != 50 || st.Bytes != 0 || !s.Empty() {
		t.Fatalf("stats after drain: %+v", st)
	}
	if segs := segments(t, dir); len(segs) != 0 {
		t.Fatalf("drained segments left behind: %v", segs)
	}
	// Appends after a drain go to a new segment and drain too.
	want = appendN(t, s, 50, 60)
	c.tips = nil
	if n, err := s.Drain(context.Background(), c.publish); err != nil || n != 10 || !slices.Equal(c.tips, want) {
		t.Fatalf("second drain: %d, %v, %v", n, err, c.tips)
	}
}

func TestPermissionsAndLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dir, Options{})
	appendN(t, s, 0, 1)
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("spool dir mode %v, want 0700 (%v)", fi.Mode().Perm(), err)
	}
	for _, p := range append(segments(t, dir), filepath.Join(dir, "LOCK")) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600 (%v)", filepath.Base(p), fi.Mode().Perm(), err)
		}
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	s.Close()
	s2 := openT(t, dir, Options{})
	if st := s2.Stats(); st.Records != 1 {
		t.Fatalf("reopened spool has %d records, want 1", st.Records)
	}
}

func TestReopenAfterCrashMidDrain(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	want := appendN(t, s, 0, 10)
	c := collector{failAt: 5}
	n, err := s.Drain(context.Background(), c.publish)
	if err == nil || n != 4 {
		t.Fatalf("drain with a failure at 5: %d, %v", n, err)
	}
	// The next drain goes on where the last stopped.
	n, err = s.Drain(context.Background(), c.publish)
	if err != nil || n != 6 || !slices.Equal(c.tips, want) {
		t.Fatalf("resumed drain: %d, %v, %v", n, err, c.tips)
	}

	// A crash after part of a segment was published: the segment is still
	// there after a restart and is published again from its start
	// (Publish is idempotent by tip id).
	want = appendN(t, s, 10, 20)
	c = collector{failAt: 4}
	s.Drain(context.Background(), c.publish)
	s.Close()
	s2 := openT(t, dir, Options{})
	if st := s2.Stats(); st.Records != 10 {
		t.Fatalf("after restart: %d records, want 10", st.Records)
	}
	c = collector{}
	if n, err := s2.Drain(context.Background(), c.publish); err != nil || n != 10 || !slices.Equal(c.tips, want) {
		t.Fatalf("drain after restart: %d, %v, %v", n, err, c.tips)
	}
}

func TestTornLastRecordRepaired(t *testing.T) {
	for _, cut := range []int64{1, 7, recordHeaderSize, recordHeaderSize + 3, -1} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir, seg, want := closedSegment(t, 5)
			fi, _ := os.Stat(seg)
			last := int64(recordHeaderSize + len(appendEntry(nil, entryN(4))))
			whole := fi.Size() - last // the four records before it
			keep := whole + cut       // cut bytes of the last record survive
			if cut < 0 {
				keep = fi.Size() - 1
			}
			if err := os.Truncate(seg, keep); err != nil {
				t.Fatal(err)
			}
			s2 := openT(t, dir, Options{})
			if st := s2.Stats(); st.Records != 4 {
				t.Fatalf("after repair: %d records, want 4", st.Records)
			}
			fi, _ = os.Stat(seg)
			if fi.Size() != whole {
				t.Fatalf("segment not cut back to its last whole record: %d bytes, want %d", fi.Size(), whole)
			}
			// The spool goes on working: new tips after the repaired ones.
			want = append(want[:4], appendN(t, s2, 5, 7)...)
			var c collector
			if n, err := s2.Drain(context.Background(), c.publish); err != nil || n != 6 || !slices.Equal(c.tips, want) {
				t.Fatalf("drain: %d, %v, %v", n, err, c.tips)
			}
		})
	}
}

func TestDamagedSegmentKeptAside(t *testing.T) {
	dir, seg, want := closedSegment(t, 3)
	b, _ := os.ReadFile(seg)
	b[fileHeaderSize+recordHeaderSize+10] ^= 0xff // inside the first record's payload
	os.WriteFile(seg, b, 0o600)

	s2 := openT(t, dir, Options{})
	var c collector
	if n, err := s2.Drain(context.Background(), c.publish); err != nil || n != 2 || !slices.Equal(c.tips, want[1:]) {
		t.Fatalf("drain: %d, %v, %v", n, err, c.tips)
	}
	if _, err := os.Stat(seg + ".corrupt"); err != nil {
		t.Fatalf("damaged segment not kept aside: %v", err)
	}
	// A new segment never takes the number of one kept aside.
	appendN(t, s2, 3, 4)
	if segs := segments(t, dir); len(segs) != 1 || segs[0] <= seg {
		t.Fatalf("new segment %v after %s", segs, seg)
	}
}

func TestUnreadableSegmentsAreNotFatal(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "0000000000000001.spool"), []byte("hlsp"), 0o600)                 // cut at creation
	os.WriteFile(filepath.Join(dir, "0000000000000002.spool"), []byte("not a spool at all!!"), 0o600) // foreign
	os.WriteFile(filepath.Join(dir, "0000000000000003.spool"), fileHeader(), 0o600)                   // empty
	s := openT(t, dir, Options{})
	if st := s.Stats(); st.Records != 0 {
		t.Fatalf("records: %d", st.Records)
	}
	if segs := segments(t, dir); len(segs) != 0 {
		t.Fatalf("segments left: %v", segs)
	}
	if _, err := os.Stat(filepath.Join(dir, "0000000000000002.spool.corrupt")); err != nil {
		t.Fatal("foreign file not kept aside")
	}
	appendN(t, s, 0, 1)
	if segs := segments(t, dir); len(segs) != 1 || filepath.Base(segs[0]) != "0000000000000004.spool" {
		t.Fatalf("new segment: %v", segs)
	}
}

func TestFull(t *testing.T) {
	dir := t.TempDir()
	rec := int64(recordHeaderSize + len(appendEntry(nil, entryN(1))))
	s := openT(t, dir, Options{MaxBytes: fileHeaderSize + 3*rec + headroom})
	for range 3 {
		if err := s.Append(entryN(1)); err != nil {
			t.Fatal(err)
		}
	}
	if !s.CanTake() {
		t.Fatal("CanTake false with headroom left")
	}
	for i := 4; ; i++ {
		err := s.Append(entryN(1))
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil || i > 10000 {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if s.CanTake() {
		t.Fatal("CanTake true when full")
	}
	var c collector
	if _, err := s.Drain(context.Background(), c.publish); err != nil {
		t.Fatal(err)
	}
	if !s.CanTake() || s.Append(entryN(1)) != nil {
		t.Fatal("no room after a drain")
	}
}

// TestConcurrentAppendAndDrain: appends racing with drains lose nothing,
// duplicate nothing, and keep each writer's order.
func TestConcurrentAppendAndDrain(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := entryN(i)
				e.TipID = fmt.Sprintf("w%d-%03d", w, i)
				if err := s.Append(e); err != nil {
					t.Errorf("append: %v", err)
				}
			}
		})
	}
	var c collector
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := s.Drain(context.Background(), c.publish); err != nil {
				t.Errorf("drain: %v", err)
			}
			select {
			case <-ctx(t).Done():
				return
			default:
			}
			if s.Stats().Appended == writers*each && s.Empty() {
				return
			}
		}
	}()
	wg.Wait()
	<-done
	seen := map[string]bool{}
	last := map[byte]string{}
	for _, id := range c.tips {
		if seen[id] {
			t.Fatalf("%s drained twice", id)
		}
		seen[id] = true
		if id < last[id[1]] {
			t.Fatalf("%s drained after %s", id, last[id[1]])
		}
		last[id[1]] = id
	}
	if len(seen) != writers*each {
		t.Fatalf("drained %d, want %d", len(seen), writers*each)
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func TestClosed(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	s.Close()
	if err := s.Append(entryN(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if s.CanTake() {
		t.Fatal("closed spool can take")
	}
}
