package queue_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// carrying is a batch whose entry carries value in the field "job", with
// an op that writes it under key if the tip makes no entry (SET: the
// tests also run as the shipped ACL's user, granted what the gateway
// sends).
func carrying(key, value string) *queue.Batch {
	return &queue.Batch{
		Carry: []string{"job", value},
		Ops:   []queue.Op{{Cmd: []any{"set", key, value}, UnlessEntry: true}},
	}
}

// carried reads every value of field "job" past the cursor and moves the
// cursor past them.
func carried(t *testing.T, q *queue.Queue, n int) []string {
	t.Helper()
	var out []string
	for {
		c, err := q.Carried(context.Background(), "pe-lima", "job", n)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range c.Items {
			out = append(out, it.TipID+"="+it.Value)
		}
		if err := q.Advance(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if !c.More() {
			return out
		}
	}
}

// TestEntryCarriesBatchValue: a tip that makes an entry carries the
// batch's value in it, and the op that would have written it does not run;
// a tip appended to its case's item makes no entry, and the op runs; a
// retry does neither. Carried reads each value once, across pages, and
// again from an entry moved to the urgent stream.
func TestEntryCarriesBatchValue(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	// What the ops wrote, by tip.
	key := func(tip string) string { return r.Prefix + ":{pe-lima}:written:" + tip }
	written := func() []string {
		var out []string
		for _, tip := range []string{"a", "a2"} {
			if v, err := r.Client.Get(ctx, key(tip)).Result(); err == nil {
				out = append(out, v)
			}
		}
		return out
	}

	a := entry("pe-lima", "a", queue.Normal)
	a.Batch = carrying(key("a"), "job-a")
	publish(t, q, a)
	if !a.Batch.Entered || a.Batch.Results[0] != queue.OpNotRun || len(written()) != 0 {
		t.Fatalf("a new case: entered %v, results %v, written %v; want the entry to carry it",
			a.Batch.Entered, a.Batch.Results, written())
	}
	// The same case, its item open: appended, no entry.
	a2 := entry("pe-lima", "a2", queue.Normal)
	a2.Case = a.Case
	a2.Batch = carrying(key("a2"), "job-a2")
	publish(t, q, a2)
	if a2.Batch.Entered || fmt.Sprint(written()) != "[job-a2]" {
		t.Fatalf("an appended tip: entered %v, written %v; want the op to write it", a2.Batch.Entered, written())
	}
	// Retries: nothing carried, nothing written again.
	for _, e := range []queue.Entry{a, a2} {
		e.Batch = carrying(key(e.TipID), "job-again")
		publish(t, q, e)
		if !e.Batch.Queued || e.Batch.Entered {
			t.Fatalf("retry of %s: %+v", e.TipID, e.Batch)
		}
	}
	if n := streamLen(t, r, queue.Normal); n != 1 || fmt.Sprint(written()) != "[job-a2]" {
		t.Fatalf("%d entries, written %v after the retries", n, written())
	}
	// Five more, read two entries a page.
	want := []string{"a=job-a"}
	for i := range 5 {
		e := entry("pe-lima", fmt.Sprint("b", i), queue.Normal)
		e.Batch = carrying(key(e.TipID), fmt.Sprint("job-b", i))
		publish(t, q, e)
		want = append(want, fmt.Sprintf("b%d=job-b%d", i, i))
	}
	publish(t, q, entry("pe-lima", "plain", queue.Normal)) // carries nothing
	if got := carried(t, q, 2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("carried %v, want %v", got, want)
	}
	if got := carried(t, q, 2); len(got) != 0 {
		t.Fatalf("read again after Advance: %v", got)
	}
	// An entry moved to the urgent stream carries its value along.
	c := claim(t, q, "pe-lima", "alice")
	if err := q.Escalate(ctx, "pe-lima", c.TipID, "alice", "urgent"); err != nil {
		t.Fatal(err)
	}
	if got := carried(t, q, 10); fmt.Sprint(got) != "[a=job-a]" {
		t.Fatalf("after the escalation: %v, want a's value again", got)
	}
}

// TestCarriedCursorForwardOnly: two readers on the same page (two
// gateways) both get its values; an Advance that comes late does not move
// the cursor back, and the page is not read a third time.
func TestCarriedCursorForwardOnly(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	other := queue.New(r.Client, queue.Options{Prefix: r.Prefix})
	for i := range 3 {
		e := entry("pe-lima", fmt.Sprint("t", i), queue.Normal)
		e.Batch = carrying(r.Prefix+":{pe-lima}:w", fmt.Sprint("v", i))
		publish(t, q, e)
	}
	early, err := q.Carried(ctx, "pe-lima", "job", 2)
	if err != nil {
		t.Fatal(err)
	}
	late, err := other.Carried(ctx, "pe-lima", "job", 2)
	if err != nil || len(late.Items) != 2 || len(early.Items) != 2 {
		t.Fatalf("two readers: %+v %+v %v", early, late, err)
	}
	if err := q.Advance(ctx, early); err != nil {
		t.Fatal(err)
	}
	rest := carried(t, q, 10)
	if fmt.Sprint(rest) != "[t2=v2]" {
		t.Fatalf("after the first page: %v", rest)
	}
	if err := other.Advance(ctx, late); err != nil {
		t.Fatal(err)
	}
	if again := carried(t, q, 10); len(again) != 0 {
		t.Fatalf("a late Advance moved the cursor back: %v read again", again)
	}
}

// TestCarryRefused: what the entry could not carry is refused before
// anything is written.
func TestCarryRefused(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	for name, b := range map[string]*queue.Batch{
		"a field of the entry": {Carry: []string{"sealed", "x"}},
		"an odd list":          {Carry: []string{"job"}},
		"an empty field":       {Carry: []string{"", "x"}},
		"a guard unless entry": {Ops: []queue.Op{{Cmd: []any{"set", r.Prefix + ":k", "v"}, Guard: true, UnlessEntry: true}}},
	} {
		e := entry("pe-lima", "x", queue.Normal)
		e.Batch = b
		if err := q.Publish(context.Background(), e); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if keys := r.Keys(t); len(keys) != 0 {
		sort.Strings(keys)
		t.Fatalf("refused batches wrote %v", keys)
	}
	if _, err := q.Carried(context.Background(), "pe-lima", "a field", 1); !errors.Is(err, queue.ErrInvalid) {
		t.Fatalf("a field with a space: %v", err)
	}
}

// TestCarriedPageBoundedByBytes: entries with attachments are large; a
// page stops once it has read a few megabytes, whatever its count, and
// the next pages read the rest, each value once. A large entry that
// carries nothing (a web report with photos) counts as much.
func TestCarriedPageBoundedByBytes(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	// Met empty first, as the gateway's mover meets it: the large entries
	// that follow are read alone because they are marked.
	if got := carried(t, q, 100); len(got) != 0 {
		t.Fatalf("an empty stream carried %v", got)
	}
	big := make([]byte, 3<<20)
	for i := range 4 {
		e := entry("pe-lima", fmt.Sprint("m", i), queue.Normal)
		e.Sealed = append([]byte("age-encryption.org/v1\n"), big...)
		if i == 0 || i == 3 {
			e.Batch = carrying(r.Prefix+":{pe-lima}:w", fmt.Sprint("v", i))
		}
		publish(t, q, e)
	}
	first, err := q.Carried(ctx, "pe-lima", "job", 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Advance(ctx, first); err != nil {
		t.Fatal(err)
	}
	// m0 (3 MB) then m1 (3 MB, read alone): the page is full, and the
	// cursor is at m1.
	at, err := r.Client.HGet(ctx, r.Prefix+":{pe-lima}:carried", "job normal").Result()
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Client.XRange(ctx, r.Prefix+":{pe-lima}:tips:normal", at, at).Result()
	if err != nil || len(e) != 1 || e[0].Values["tip"] != "m1" {
		tip := any(nil)
		if len(e) == 1 {
			tip = e[0].Values["tip"]
		}
		t.Fatalf("the first page of 3 MB entries ended at %v (%v), want m1: m0 and m1 fill it", tip, err)
	}
	got := []string{}
	for _, it := range first.Items {
		got = append(got, it.Value)
	}
	for _, v := range carried(t, q, 100) {
		got = append(got, v[len("mX="):])
	}
	if fmt.Sprint(got) != "[v0 v3]" {
		t.Fatalf("values read: %v", got)
	}
}

// TestCarriedReadsSmallEntriesInPages: past the entries a stream held when
// it was first read, Carried reads the small entries between two large
// ones many at a time and each large one alone, on a Redis of its own so
// that INFO commandstats counts its XRANGEs only; every value is read
// once, in order, and the marks of large entries read are forgotten.
func TestCarriedReadsSmallEntriesInPages(t *testing.T) {
	opt, err := redis.ParseURL(queuetest.StartServer(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	q := queue.New(rdb, queue.Options{Prefix: "hl:t:pages", Lease: time.Minute})
	ctx := context.Background()
	xranges := func() int64 {
		info, err := rdb.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(info, "cmdstat_xrange:calls=")
		n, _ := strconv.ParseInt(rest[:strings.IndexAny(rest+",", ",\r\n")], 10, 64)
		return n
	}

	// The stream is met before anything is in it, as the gateway's mover
	// meets it: nothing is read one at a time for want of marks.
	if got := carried(t, q, 256); len(got) != 0 {
		t.Fatalf("an empty stream carried %v", got)
	}
	large := append([]byte("age-encryption.org/v1\n"), make([]byte, 40<<10)...)
	var want []string
	n := 0
	add := func(count int, sealed []byte) {
		for range count {
			e := entry("pe-lima", fmt.Sprintf("m%03d", n), queue.Normal)
			if sealed != nil {
				e.Sealed = sealed
			}
			e.Batch = carrying("hl:t:pages:{pe-lima}:w", fmt.Sprint("v", n))
			publish(t, q, e)
			want = append(want, fmt.Sprintf("m%03d=v%d", n, n))
			n++
		}
	}
	add(300, nil)
	add(1, large)
	add(40, nil)
	add(2, large)
	add(10, nil)
	if m, err := rdb.ZCard(ctx, "hl:t:pages:{pe-lima}:big").Result(); err != nil || m != 3 {
		t.Fatalf("marks of large entries: %d (%v), want 3", m, err)
	}

	before := xranges()
	got := carried(t, q, 256)
	calls := xranges() - before
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read %d values, want the %d published, in order", len(got), len(want))
	}
	// Pages of 256 over both streams: 300 small entries take two
	// XRANGEs (256, 44), then one for each large entry, one per run of
	// small ones between (the 40, the 10), one on the empty urgent stream
	// per page, and one that finds the end: about ten, where one at a
	// time would take 353.
	t.Logf("%d entries read with %d XRANGE", len(got), calls)
	if calls > 20 {
		t.Fatalf("%d XRANGE calls for %d entries: want pages, not one entry at a time", calls, len(got))
	}
	if m, err := rdb.ZCard(ctx, "hl:t:pages:{pe-lima}:big").Result(); err != nil || m != 0 {
		t.Fatalf("%d marks of large entries left once every reader is past them (%v), want none", m, err)
	}
}

// TestCarriedReadsUnmarkedEntriesOneAtATime: entries a stream held when
// it was first read (an earlier release added them, unmarked, and some may
// be large) are read one at a time, so that a page stays within its
// bytes; those added after, in pages.
func TestCarriedReadsUnmarkedEntriesOneAtATime(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	// Large entries that no mark names, as an earlier release left them.
	for i := range 3 {
		e := entry("pe-lima", fmt.Sprint("old", i), queue.Normal)
		e.Sealed = append([]byte("age-encryption.org/v1\n"), make([]byte, 3<<20)...)
		e.Batch = carrying(r.Prefix+":{pe-lima}:w", fmt.Sprint("o", i))
		publish(t, q, e)
	}
	if err := r.Client.Del(ctx, r.Prefix+":{pe-lima}:big").Err(); err != nil {
		t.Fatal(err)
	}
	first, err := q.Carried(ctx, "pe-lima", "job", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) == 0 || len(first.Items) > 2 {
		t.Fatalf("a page of unmarked 3 MB entries held %d of them, want 1 or 2", len(first.Items))
	}
	if err := q.Advance(ctx, first); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e := entry("pe-lima", fmt.Sprint("new", i), queue.Normal)
		e.Batch = carrying(r.Prefix+":{pe-lima}:w", fmt.Sprint("n", i))
		publish(t, q, e)
	}
	got := carried(t, q, 100)
	if len(first.Items)+len(got) != 8 || got[len(got)-1] != "new4=n4" {
		t.Fatalf("values read after the first page: %v", got)
	}
}

// TestLargeEntryMarkedWhereItMoves: once a reader met the streams, a
// large entry is marked, whatever it carries (the reader reads them all),
// and so is its copy when it moves to the urgent stream (an urgent message
// of its case, an escalation), so that the urgent stream's reader reads it
// alone; before any reader met a stream, nothing is marked (no reader
// would forget the marks).
func TestLargeEntryMarkedWhereItMoves(t *testing.T) {
	ctx := context.Background()
	large := append([]byte("age-encryption.org/v1\n"), make([]byte, 40<<10)...)
	marks := func(r *queuetest.Redis) []string {
		m, err := r.Client.ZRangeByScore(ctx, r.Prefix+":{pe-lima}:big", &redis.ZRangeBy{Min: "-inf", Max: "+inf"}).Result()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range m {
			p, _, _ := strings.Cut(v, " ")
			out = append(out, p)
		}
		return out
	}

	t.Run("urgent message of its case", func(t *testing.T) {
		q, r := newQueue(t, time.Minute)
		carried(t, q, 10)
		a := entry("pe-lima", "a", queue.Normal)
		a.Sealed = large
		a.Batch = carrying(r.Prefix+":{pe-lima}:w", "job-a")
		publish(t, q, a)
		b := entry("pe-lima", "b", queue.Urgent)
		b.Case = a.Case
		publish(t, q, b)
		if got := fmt.Sprint(marks(r)); got != "[normal urgent]" {
			t.Fatalf("marks %s, want the entry marked in both streams", got)
		}
	})
	t.Run("escalated", func(t *testing.T) {
		q, r := newQueue(t, time.Minute)
		carried(t, q, 10)
		e := entry("pe-lima", "c", queue.Normal)
		e.Sealed = large
		publish(t, q, e)
		if c := claim(t, q, "pe-lima", "officer-1"); c.TipID != "c" {
			t.Fatalf("claimed %s", c.TipID)
		}
		if err := q.Escalate(ctx, "pe-lima", "c", "officer-1", "urgent"); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(marks(r)); got != "[normal urgent]" {
			t.Fatalf("marks %s, want the entry marked in both streams", got)
		}
	})
	t.Run("small, or no reader yet", func(t *testing.T) {
		q, r := newQueue(t, time.Minute)
		early := entry("pe-lima", "d", queue.Normal)
		early.Sealed = large
		early.Batch = carrying(r.Prefix+":{pe-lima}:w", "job-d")
		publish(t, q, early)
		if got := marks(r); len(got) != 0 {
			t.Fatalf("marks %v before any reader met the stream, want none", got)
		}
		carried(t, q, 10)
		small := entry("pe-lima", "e", queue.Normal)
		small.Batch = carrying(r.Prefix+":{pe-lima}:w", "job-e")
		publish(t, q, small)
		if got := marks(r); len(got) != 0 {
			t.Fatalf("marks %v for a small entry, want none", got)
		}
	})
}
