package conversation_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// publishWith publishes a tip of case caseRef for pe-lima with the ops
// that message m of sender p1 leaves (Store.Ops).
func publishWith(t *testing.T, s *conversation.Store, q *queue.Queue, tipID string, m conversation.Message) (*queue.Batch, conversation.Touched) {
	t.Helper()
	b := &queue.Batch{}
	touched, err := s.Ops(b, m, true)
	if err != nil {
		t.Fatal(err)
	}
	// The tip leads to the record that holds its handle.
	reach, err := s.Reach(m.Sender)
	if err != nil {
		t.Fatal(err)
	}
	e := queue.Entry{TipID: tipID, Case: m.Case, Agency: "pe-lima", Region: "lima", Channel: "sms", Priority: queue.Normal,
		ReceivedAt: m.Last, ReplyCapable: true, Sealed: []byte("age-encryption.org/v1\n-> X25519 " + tipID), Batch: b, Reach: reach}
	if err := q.Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if !b.Ran {
		t.Fatalf("batch of %s did not run: %+v", tipID, b)
	}
	return b, touched
}

// TestSenderRecordMerge: two messages of one sender read the same record
// and each write their own (two gateways at the same moment, each
// starting a case). The second write finds the first's record; merged
// back, the record lists both cases' handles, so that an exit word
// destroys both, and counts both messages; an exit word does not reset
// the count.
func TestSenderRecordMerge(t *testing.T) {
	s, r := newStore(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix, Lease: time.Minute})
	ctx := context.Background()
	read := s.ReadSender(ctx, "p1", "")
	if read.Err != nil || read.Read != "" || read.Rate != nil {
		t.Fatalf("a new sender: %+v", read)
	}
	now := time.Now().Truncate(time.Millisecond)
	until := now.Add(time.Hour).UnixMilli()
	h := conversation.Handle{From: "+51987650001", To: "+15005550006", Channel: "sms", Sender: "p1"}
	msg := func(caseRef string, count int64) conversation.Message {
		return conversation.Message{Sender: "p1", Case: caseRef, Agencies: []string{"pe-lima"}, Seq: 1, Last: now,
			ThreadWindow: 30 * time.Minute, Handle: &h, HandleTTL: 2 * time.Hour,
			Read: read, Rate: &conversation.Rate{Count: count, Until: until}, Mark: "sid-" + caseRef, DedupeTTL: time.Hour}
	}
	b1, t1 := publishWith(t, s, q, "tip-1", msg("AAAA-1111", 1))
	if _, ok := t1.Found(b1); ok {
		t.Fatalf("the first write found another record: %+v", b1)
	}
	b2, t2 := publishWith(t, s, q, "tip-2", msg("BBBB-2222", 1))
	found, ok := t2.Found(b2)
	if !ok || !strings.Contains(found, "AAAA-1111") {
		t.Fatalf("the second write did not find the first's record: %q %v", found, ok)
	}
	if err := s.Merge(ctx, "p1", found); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"AAAA-1111", "BBBB-2222"} {
		if got, last, err := s.Handle(ctx, "pe-lima", c); err != nil || got != h || !last.Equal(now) {
			t.Fatalf("handle of %s = %+v %v %v", c, got, last, err)
		}
	}
	if th, ok, err := s.Thread(ctx, "p1"); err != nil || !ok || th.Case != "BBBB-2222" {
		t.Fatalf("thread = %+v %v %v; want the last writer's", th, ok, err)
	}
	if err := s.Exit(ctx, "p1", time.Now(), 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, k := range r.Keys(t) {
		if strings.Contains(k, ":handle:") {
			t.Fatalf("a handle outlived the exit word: %s", k)
		}
	}
	// The handles were in the record, which the exit word rewrote.
	for _, c := range []string{"AAAA-1111", "BBBB-2222"} {
		if _, _, err := s.Handle(ctx, "pe-lima", c); !errors.Is(err, conversation.ErrNoHandle) {
			t.Fatalf("handle of %s after the exit word: %v", c, err)
		}
	}
	if v := r.Client.Get(ctx, r.Prefix+":thread:{p1}").Val(); strings.Contains(v, `"h":`) {
		t.Fatalf("a sealed handle outlived the exit word in the record: %s", v)
	}
	after := s.ReadSender(ctx, "p1", "")
	if after.InThread || after.Rate == nil || after.Rate.Count != 2 || after.Rate.Until != until {
		t.Fatalf("after the exit word: %+v; want no thread and the count kept", after)
	}
}

// TestExitFindsEarlierReleasesHandles: handles an earlier release saved
// (a hash, listed in the sender's handle set, beside a thread-only
// record) are destroyed by an exit word, with their index.
func TestExitFindsEarlierReleasesHandles(t *testing.T) {
	s, r := newStore(t)
	ctx := context.Background()
	old := `{"case":"CCCC-3333","agencies":["pe-lima"],"seq":2,"last":"` + time.Now().UTC().Format(time.RFC3339Nano) + `"}`
	r.Client.Set(ctx, r.Prefix+":thread:{p2}", old, time.Minute)
	for _, c := range []string{"CCCC-3333", "DDDD-4444"} {
		r.Client.HSet(ctx, r.Prefix+":{pe-lima}:handle:"+c, "sealed", "x", "last", time.Now().UnixMilli())
	}
	r.Client.SAdd(ctx, r.Prefix+":handles:{p2}", "pe-lima DDDD-4444")
	if th, ok, err := s.Thread(ctx, "p2"); err != nil || !ok || th.Case != "CCCC-3333" || th.Seq != 2 {
		t.Fatalf("an earlier release's thread = %+v %v %v", th, ok, err)
	}
	// A handle listed in the record makes it live an hour: the thread
	// still ends when its key would have, within the minute.
	h := conversation.Handle{From: "+51987650002", To: "+15005550006", Channel: "sms", Sender: "p2"}
	if err := s.SaveHandle(ctx, "pe-lima", "EEEE-5555", h, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Case string `json:"case"`
		Open int64  `json:"open"`
	}
	if err := json.Unmarshal([]byte(r.Client.Get(ctx, r.Prefix+":thread:{p2}").Val()), &rec); err != nil {
		t.Fatal(err)
	}
	if left := time.Until(time.UnixMilli(rec.Open)); rec.Case != "CCCC-3333" || left <= 0 || left > time.Minute {
		t.Fatalf("the earlier thread, once the record lives on: %+v, open %v more; want its minute", rec, left)
	}
	if ttl := r.Client.PTTL(ctx, r.Prefix+":thread:{p2}").Val(); ttl <= 59*time.Minute {
		t.Fatalf("record TTL %v; want the handle's hour", ttl)
	}
	if err := s.Exit(ctx, "p2", time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if keys := r.Keys(t); len(keys) != 1 || !strings.Contains(keys[0], ":exit:") {
		t.Fatalf("keys after the exit word = %v; want its mark alone", keys)
	}
}

// TestSenderRecordWindows: each part of the record ends on its own time:
// a thread past its window is closed while the handles it lists live on
// (and keep the key alive), a count past its window is no count, and the
// key lives as long as its longest part.
func TestSenderRecordWindows(t *testing.T) {
	s, r := newStore(t)
	ctx := context.Background()
	now := time.Now()
	key := r.Prefix + ":thread:{p3}"
	rec := map[string]any{
		"case": "EEEE-5555", "agencies": []string{"pe-lima"}, "seq": 4, "last": now.Add(-time.Hour),
		"open":    now.Add(-time.Minute).UnixMilli(),
		"handles": map[string]any{"pe-lima EEEE-5555": map[string]int64{"last": now.Add(-time.Hour).UnixMilli(), "until": now.Add(time.Hour).UnixMilli()}},
		"rate":    map[string]int64{"n": 9, "until": now.Add(-time.Second).UnixMilli()},
	}
	b, _ := json.Marshal(rec)
	r.Client.Set(ctx, key, b, time.Hour)
	got := s.ReadSender(ctx, "p3", "")
	if got.Err != nil || got.InThread || got.Rate != nil || got.Read != string(b) {
		t.Fatalf("a record past its thread and count windows: %+v", got)
	}
	// A new thread: the old handle stays listed, the count starts again.
	if err := s.SaveThread(ctx, "p3", conversation.Thread{Case: "FFFF-6666", Agencies: []string{"pe-lima"}, Seq: 1, Last: now}, time.Minute); err != nil {
		t.Fatal(err)
	}
	var after struct {
		Case    string         `json:"case"`
		Handles map[string]any `json:"handles"`
		Rate    any            `json:"rate"`
	}
	if err := json.Unmarshal([]byte(r.Client.Get(ctx, key).Val()), &after); err != nil {
		t.Fatal(err)
	}
	if after.Case != "FFFF-6666" || after.Handles["pe-lima EEEE-5555"] == nil || after.Rate != nil {
		t.Fatalf("record after a new thread = %+v", after)
	}
	if ttl := r.Client.PTTL(ctx, key).Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("record TTL = %v; want the handle's hour, longer than the thread's minute", ttl)
	}
	// Nothing left to keep: the key goes.
	r.Client.Set(ctx, key, `{"rate":{"n":1,"until":1}}`, time.Hour)
	if err := s.CloseThread(ctx, "p3"); err != nil {
		t.Fatal(err)
	}
	if err := r.Client.Get(ctx, key).Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("a record with nothing left: %v; want it deleted", err)
	}
}

// TestSenderRecordMarks: a record keeps the dedupe marks of the sender's
// latest messages, each until its own end, and at most 64 of them, the
// latest: a flood from one sender cannot grow the record it rewrites with
// each message.
func TestSenderRecordMarks(t *testing.T) {
	s, r := newStore(t)
	ctx := context.Background()
	now := time.Now()
	marks := map[string]any{"gone": map[string]any{"case": "OLD0-0000", "until": now.Add(-time.Second).UnixMilli()}}
	for i := range 70 {
		marks["m"+strconv.Itoa(i)] = map[string]any{"case": "CASE-" + strconv.Itoa(i), "until": now.Add(time.Duration(i+1) * time.Minute).UnixMilli()}
	}
	b, _ := json.Marshal(map[string]any{"marks": marks})
	key := r.Prefix + ":thread:{p4}"
	r.Client.Set(ctx, key, b, time.Hour)
	if got := s.ReadSender(ctx, "p4", "m3"); got.Seen != "done CASE-3" {
		t.Fatalf("a marked message: Seen %q", got.Seen)
	}
	if got := s.ReadSender(ctx, "p4", "gone"); got.Seen != "" {
		t.Fatalf("a mark past its end: Seen %q", got.Seen)
	}
	if err := s.SaveThread(ctx, "p4", conversation.Thread{Case: "NEW0-0000", Agencies: []string{"pe-lima"}, Seq: 1, Last: now}, time.Minute); err != nil {
		t.Fatal(err)
	}
	var after struct {
		Marks map[string]any `json:"marks"`
	}
	if err := json.Unmarshal([]byte(r.Client.Get(ctx, key).Val()), &after); err != nil {
		t.Fatal(err)
	}
	if len(after.Marks) != 64 || after.Marks["m69"] == nil || after.Marks["m6"] == nil || after.Marks["m5"] != nil || after.Marks["gone"] != nil {
		t.Fatalf("%d marks kept (m69 %v, m6 %v, m5 %v, gone %v); want the 64 latest", len(after.Marks),
			after.Marks["m69"] != nil, after.Marks["m6"] != nil, after.Marks["m5"] != nil, after.Marks["gone"] != nil)
	}
	if ttl := r.Client.PTTL(ctx, key).Val(); ttl < 69*time.Minute || ttl > 70*time.Minute {
		t.Fatalf("record TTL = %v; want the latest mark's", ttl)
	}
}

// TestSenderRecordMergeOverlap: three racing messages, one of which read
// the record the first wrote while the second read none; their writes and
// merges interleave so that a merge brings back a message the record
// already counts. Each is counted once.
func TestSenderRecordMergeOverlap(t *testing.T) {
	s, r := newStore(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix, Lease: time.Minute})
	ctx := context.Background()
	until := time.Now().Add(time.Hour).UnixMilli()
	msg := func(read conversation.Sender, id string) conversation.Message {
		count := int64(1)
		if read.Rate != nil {
			count = read.Rate.Count + 1
		}
		return conversation.Message{Sender: "p5", Case: "CASE-" + id, Agencies: []string{"pe-lima"}, Seq: 1, Last: time.Now(),
			ThreadWindow: time.Minute, Read: read, Rate: &conversation.Rate{Count: count, Until: until}, Mark: id, DedupeTTL: time.Hour}
	}
	none := s.ReadSender(ctx, "p5", "")
	publishWith(t, s, q, "tip-o1", msg(none, "m1"))
	afterFirst := s.ReadSender(ctx, "p5", "")
	b2, t2 := publishWith(t, s, q, "tip-o2", msg(none, "m2"))
	b3, t3 := publishWith(t, s, q, "tip-o3", msg(afterFirst, "m3"))
	for _, c := range []struct {
		b *queue.Batch
		t conversation.Touched
	}{{b2, t2}, {b3, t3}} {
		found, ok := c.t.Found(c.b)
		if !ok {
			t.Fatal("a racing write found nothing to merge: the test proves nothing")
		}
		if err := s.Merge(ctx, "p5", found); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.ReadSender(ctx, "p5", ""); got.Rate == nil || got.Rate.Count != 3 {
		t.Fatalf("count after three racing messages = %+v; want 3", got.Rate)
	}
}

// TestSenderRecordOfAnotherType: a key of another type where a sender's
// record belongs (an operator's mistake, a hostile Redis) makes the
// record's writers fail with an error, never a panic or a record half
// written; the connection the failed WATCH left is released (UNWATCH,
// which the shipped ACL grants: the ACL run passes through here), so the
// next sender's record is written on it as usual.
func TestSenderRecordOfAnotherType(t *testing.T) {
	s, r := newStore(t)
	ctx := context.Background()
	key := r.Prefix + ":thread:{p-wrong}"
	if err := r.Client.HSet(ctx, key, "x", "1").Err(); err != nil {
		t.Fatal(err)
	}
	th := conversation.Thread{Case: "AAAA-1111", Agencies: []string{"pe-lima"}}
	for i := range 3 {
		if err := s.SaveThread(ctx, "p-wrong", th, time.Hour); err == nil {
			t.Fatalf("try %d: a thread saved over a hash", i)
		}
		if err := s.Merge(ctx, "p-wrong", `{"case":"BBBB-2222","marks":{"sid":{"case":"BBBB-2222","until":`+
			strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)+`}}}`); err == nil {
			t.Fatalf("try %d: a record merged over a hash", i)
		}
	}
	if v, err := r.Client.HGet(ctx, key, "x").Result(); err != nil || v != "1" {
		t.Fatalf("the hash was replaced: %q %v", v, err)
	}
	if err := s.SaveThread(ctx, "p-right", th, time.Hour); err != nil {
		t.Fatalf("the next sender after the failed watches: %v", err)
	}
	got, ok, err := s.Thread(ctx, "p-right")
	if err != nil || !ok || got.Case != th.Case {
		t.Fatalf("the next sender's thread: %+v %v %v", got, ok, err)
	}
}

// TestAnnounce: a thread opened before its message is queued (a photo is
// downloaded first) is written only over the record as read; the message's
// batch then replaces it without a merge. A record another message wrote
// in between is left alone: its open thread is the one to join, and the
// batch merges it as ever, keeping both messages' agencies and counts.
func TestAnnounce(t *testing.T) {
	s, r := newStore(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix, Lease: time.Minute})
	ctx := context.Background()
	until := time.Now().Add(time.Hour).UnixMilli()
	msg := func(read conversation.Sender, id, caseRef, agency string, seq int) conversation.Message {
		count := int64(1)
		if read.Rate != nil {
			count = read.Rate.Count + 1
		}
		return conversation.Message{Sender: "p6", Case: caseRef, Agencies: []string{agency}, Seq: seq, Last: time.Now(),
			InThread: read.InThread, ThreadAgencies: read.Thread.Agencies,
			ThreadWindow: time.Minute, Read: read, Rate: &conversation.Rate{Count: count, Until: until}, Mark: id, DedupeTTL: time.Hour}
	}
	// The photo's read, then its case opened.
	photo := s.ReadSender(ctx, "p6", "m1")
	before := photo.Read
	if mine, err := s.Announce(ctx, "p6", &photo, conversation.Thread{Case: "CASE-PHOT"}, time.Minute); err != nil || !mine || photo.InThread {
		t.Fatalf("announce: %v %v (in thread: %v)", mine, err, photo.InThread)
	}
	if photo.Read == before || r.Client.Get(ctx, r.Prefix+":thread:{p6}").Val() != photo.Read {
		t.Fatal("the sender as read is not the record written")
	}
	// The pin, read now, joins the case, and is queued first.
	pin := s.ReadSender(ctx, "p6", "m2")
	if !pin.InThread || pin.Thread.Case != "CASE-PHOT" || pin.Thread.Seq != 1 {
		t.Fatalf("the pin's read: %+v", pin.Thread)
	}
	if b, tc := publishWith(t, s, q, "tip-pin", msg(pin, "m2", "CASE-PHOT", "pe-east", 2)); func() bool { _, ok := tc.Found(b); return ok }() {
		t.Fatal("the pin's batch found a record to merge")
	}
	// Another message's announcement now finds the pin's thread to join,
	// and writes nothing.
	late := photo
	if mine, err := s.Announce(ctx, "p6", &late, conversation.Thread{Case: "CASE-LATE"}, time.Minute); err != nil || mine || !late.InThread || late.Thread.Case != "CASE-PHOT" || late.Read != photo.Read {
		t.Fatalf("a later announcement: %v %v, %+v", mine, err, late.Thread)
	}
	// The photo's batch finds the pin's record and merges it.
	b, tc := publishWith(t, s, q, "tip-photo", msg(photo, "m1", "CASE-PHOT", "pe-lima", 1))
	found, ok := tc.Found(b)
	if !ok {
		t.Fatal("the photo's batch found nothing to merge: the test proves nothing")
	}
	if err := s.Merge(ctx, "p6", found); err != nil {
		t.Fatal(err)
	}
	got := s.ReadSender(ctx, "p6", "")
	if got.Rate == nil || got.Rate.Count != 2 || got.Thread.Case != "CASE-PHOT" || got.Thread.Seq != 2 ||
		!slices.Contains(got.Thread.Agencies, "pe-lima") || !slices.Contains(got.Thread.Agencies, "pe-east") {
		t.Fatalf("after both: %+v, count %+v", got.Thread, got.Rate)
	}
	// A record changed since the read, with no open thread: nothing is
	// written, nothing joined.
	r.Client.Set(ctx, r.Prefix+":thread:{p7}", `{"rate":{"n":1,"until":`+strconv.FormatInt(until, 10)+`}}`, time.Hour)
	stale := s.ReadSender(ctx, "p7", "")
	r.Client.Set(ctx, r.Prefix+":thread:{p7}", `{"rate":{"n":2,"until":`+strconv.FormatInt(until, 10)+`}}`, time.Hour)
	if mine, err := s.Announce(ctx, "p7", &stale, conversation.Thread{Case: "CASE-P7AA"}, time.Minute); err != nil || mine || stale.InThread {
		t.Fatalf("over a changed record: %v %v %+v", mine, err, stale.Thread)
	}
	if v := r.Client.Get(ctx, r.Prefix+":thread:{p7}").Val(); strings.Contains(v, "CASE") {
		t.Fatalf("written over a record changed since the read: %s", v)
	}
}

// TestMovedHandleDoesNotOpen: whoever can write to Redis (but holds no
// reply key) takes the sealed reply handle of one reporter and puts it
// where another case's belongs, in that case's sender's record or under
// the case's own handle key: an officer's reply to the second case must
// not reach the first reporter's phone. The handle names its case
// (seal.ReplyKey's places), so it does not open there.
func TestMovedHandleDoesNotOpen(t *testing.T) {
	s, r := newStore(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix, Lease: time.Minute})
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	until := now.Add(time.Hour).UnixMilli()
	msg := func(sender, caseRef, number string) conversation.Message {
		h := conversation.Handle{From: number, To: "+15005550006", Channel: "sms", Sender: sender}
		return conversation.Message{Sender: sender, Case: caseRef, Agencies: []string{"pe-lima"}, Seq: 1, Last: now,
			ThreadWindow: 30 * time.Minute, Handle: &h, HandleTTL: 2 * time.Hour, Read: s.ReadSender(ctx, sender, ""),
			Rate: &conversation.Rate{Count: 1, Until: until}, Mark: "sid-" + caseRef, DedupeTTL: time.Hour}
	}
	publishWith(t, s, q, "tip-x", msg("px", "XXXX-1111", "+51911110001"))
	publishWith(t, s, q, "tip-y", msg("py", "YYYY-2222", "+51911110002"))
	if h, _, err := s.Handle(ctx, "pe-lima", "YYYY-2222"); err != nil || h.From != "+51911110002" {
		t.Fatalf("the second case's handle: %+v %v", h, err)
	}
	type entry struct {
		Last  int64  `json:"last"`
		Until int64  `json:"until"`
		H     []byte `json:"h"`
	}
	records := func(sender string) map[string]any {
		var rec map[string]any
		if err := json.Unmarshal([]byte(r.Client.Get(ctx, r.Prefix+":thread:{"+sender+"}").Val()), &rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	xs := records("px")["handles"].(map[string]any)["pe-lima XXXX-1111"].(map[string]any)
	stolen, _ := base64.StdEncoding.DecodeString(xs["h"].(string))
	if len(stolen) == 0 {
		t.Fatal("no sealed handle in the first reporter's record: the test proves nothing")
	}
	// In the second sender's record, in place of its handle.
	ys := records("py")
	ys["handles"].(map[string]any)["pe-lima YYYY-2222"] = entry{Last: now.UnixMilli(), Until: until, H: stolen}
	b, _ := json.Marshal(ys)
	r.Client.Set(ctx, r.Prefix+":thread:{py}", b, time.Hour)
	h, _, err := s.Handle(ctx, "pe-lima", "YYYY-2222")
	if err == nil || h.From == "+51911110001" {
		t.Fatalf("a handle moved into another case's record opened: %+v %v", h, err)
	}
	// Under the case's own handle key, which is read first.
	r.Client.Set(ctx, r.Prefix+":{pe-lima}:handle:YYYY-2222", stolen, time.Hour)
	if h, _, err := s.Handle(ctx, "pe-lima", "YYYY-2222"); err == nil || h.From == "+51911110001" {
		t.Fatalf("a handle moved under another case's key opened: %+v %v", h, err)
	}
}

// TestEarlierHandleSealedAgain: a handle an earlier release sealed in the
// sender's record names no case; the sender's next message seals it
// again, naming its case, so that it cannot be moved from then on.
func TestEarlierHandleSealedAgain(t *testing.T) {
	r := queuetest.New(t)
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	s := conversation.NewWith(r.Client, r.Prefix, time.Second, key, true)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix, Lease: time.Minute})
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	h := conversation.Handle{From: "+51911110003", To: "+15005550006", Channel: "sms", Sender: "pz"}
	msg := func(seq int) conversation.Message {
		read := s.ReadSender(ctx, "pz", "")
		return conversation.Message{Sender: "pz", Case: "ZZZZ-3333", Agencies: []string{"pe-lima"}, Seq: seq, Last: now,
			InThread: read.InThread, ThreadAgencies: read.Thread.Agencies,
			ThreadWindow: 30 * time.Minute, Handle: &h, HandleTTL: 2 * time.Hour, Read: read}
	}
	publishWith(t, s, q, "tip-z1", msg(1))
	// As the release before places sealed it: an age file to the key.
	rs, err := seal.ParseRecipientsWith([]string{key.Recipient()}, seal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	earlier, err := rs.SealJSON(h)
	if err != nil {
		t.Fatal(err)
	}
	k := r.Prefix + ":thread:{pz}"
	var rec map[string]any
	json.Unmarshal([]byte(r.Client.Get(ctx, k).Val()), &rec)
	rec["handles"].(map[string]any)["pe-lima ZZZZ-3333"].(map[string]any)["h"] = earlier
	b, _ := json.Marshal(rec)
	r.Client.Set(ctx, k, b, time.Hour)
	sealedNow := func() []byte {
		var rec struct {
			Handles map[string]struct {
				H []byte `json:"h"`
			} `json:"handles"`
		}
		json.Unmarshal([]byte(r.Client.Get(ctx, k).Val()), &rec)
		return rec.Handles["pe-lima ZZZZ-3333"].H
	}
	if key.Placed("handle ZZZZ-3333", sealedNow()) {
		t.Fatal("the earlier release's handle names its case: the test proves nothing")
	}
	publishWith(t, s, q, "tip-z2", msg(2))
	if got := sealedNow(); !key.Placed("handle ZZZZ-3333", got) {
		t.Fatalf("the handle was not sealed again, naming its case (%d bytes)", len(got))
	}
	if got, _, err := s.Handle(ctx, "pe-lima", "ZZZZ-3333"); err != nil || got != h {
		t.Fatalf("handle after sealing again: %+v %v", got, err)
	}
}
