package followup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/queue/queuetest"
)

func TestCodes(t *testing.T) {
	code := followup.NewCode()
	if len(code) != 19 || strings.Count(code, "-") != 3 {
		t.Fatalf("code %q: want four groups of four", code)
	}
	if followup.NewCode() == code {
		t.Fatal("two codes alike")
	}
	for _, c := range code {
		if strings.ContainsRune("ILOU", c) {
			t.Fatalf("code %q holds an ambiguous symbol %c", code, c)
		}
	}
	raw := strings.ReplaceAll(code, "-", "")
	// The witness reads 0 as O and 1 as I or l: the same code.
	confused := strings.NewReplacer("0", "O", "1", "l").Replace(raw)
	legacy := legacyCode("23456789ABCDEFGHJKLMNPQRST")
	legacyRaw := strings.ReplaceAll(legacy, "-", "")
	flipped := []byte(legacyRaw)
	if flipped[3] == 'A' {
		flipped[3] = 'B'
	} else {
		flipped[3] = 'A'
	}
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{code, code, nil},
		{strings.ToLower(code), code, nil},
		{raw, code, nil},
		{confused, code, nil},
		{" " + strings.ReplaceAll(code, "-", " ") + " ", code, nil},
		{strings.Map(func(r rune) rune { // typed on a full-width keyboard
			if r >= '0' && r <= 'Z' {
				return r - '0' + 0xFF10
			}
			return r
		}, code), code, nil},
		{legacy, legacy, nil}, // old codes still open their threads
		{strings.ToLower(legacyRaw), legacy, nil},
		{string(flipped), "", followup.ErrBadCode}, // an old code mistyped: its check catches it
		{raw[:15], "", followup.ErrBadCode},
		{raw + "A", "", followup.ErrBadCode},
		{raw[:15] + "U", "", followup.ErrBadCode}, // U is not in the alphabet
		{"", "", followup.ErrBadCode},
		{strings.Repeat("A", 200), "", followup.ErrBadCode},
	} {
		got, err := followup.NormalizeCode(tc.in)
		if !errors.Is(err, tc.err) {
			t.Errorf("NormalizeCode(%q) error %v, want %v", tc.in, err, tc.err)
		}
		if err == nil && got != tc.want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// legacyCode makes a code of the old format (26 random characters and two
// check characters) as NewCode made them before.
func legacyCode(random string) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	sum := sha256.Sum256(append([]byte("hotline receipt code check\x00"), random...))
	raw := random + string([]byte{alphabet[sum[0]&31], alphabet[sum[1]&31]})
	var groups []string
	for i := 0; i < len(raw); i += 4 {
		groups = append(groups, raw[i:i+4])
	}
	return strings.Join(groups, "-")
}

func TestLegacyCodeOpensThread(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	code := legacyCode("ABCDEFGHJKLMNPQRSTUVWXYZ23")
	handle, err := s.Create(ctx, code, "ABCD-EFGH")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PostQuestion(ctx, handle, "still there?"); err != nil {
		t.Fatal(err)
	}
	th, err := s.Open(ctx, strings.ToLower(strings.ReplaceAll(code, "-", " ")))
	if err != nil || len(th.Messages) != 1 || th.Messages[0].Text != "still there?" {
		t.Fatalf("open old code: %+v %v", th, err)
	}
}

func TestUrgentThread(t *testing.T) {
	s, _, code, handle := newThread(t)
	ctx := context.Background()
	if th, err := s.Open(ctx, code); err != nil || th.Info.Urgent {
		t.Fatalf("a new thread is urgent (%v) or does not open: %v", th != nil && th.Info.Urgent, err)
	}
	if err := s.MarkUrgent(ctx, handle); err != nil {
		t.Fatal(err)
	}
	if th, err := s.Open(ctx, code); err != nil || !th.Info.Urgent {
		t.Fatalf("the thread forgot its urgency: %v", err)
	}
	if info, err := s.Info(ctx, handle); err != nil || !info.Urgent {
		t.Fatalf("Info forgot the urgency: %+v %v", info, err)
	}
}

// newThread is a new store with the thread of a new code, for case
// ABCD-EFGH.
func newThread(t *testing.T) (s *followup.Store, r *queuetest.Redis, code, handle string) {
	t.Helper()
	s, r, _ = newStore(t)
	code = followup.NewCode()
	handle, err := s.Create(context.Background(), code, "ABCD-EFGH")
	if err != nil {
		t.Fatal(err)
	}
	return s, r, code, handle
}

func newStore(t *testing.T) (*followup.Store, *queuetest.Redis, *pseudonym.Keyer) {
	r := queuetest.New(t)
	k, err := pseudonym.New(bytes.Repeat([]byte("followup-pepper!"), 2))
	if err != nil {
		t.Fatal(err)
	}
	return followup.New(r.Client, k, followup.Options{Prefix: r.Prefix, TTL: time.Hour, MaxMessages: 3}), r, k
}

func TestThread(t *testing.T) {
	ctx := context.Background()
	s, r, k := newStore(t)
	code := followup.NewCode()
	handle, err := s.Create(ctx, code, "ABCD-EFGH")
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Handle(strings.ToLower(code)); h != handle {
		t.Fatalf("handle of the code typed in lowercase differs")
	}
	other, _ := pseudonym.New(bytes.Repeat([]byte("another-pepper!!"), 2))
	if other.Of(followup.Domain, code) == handle || k.Of(pseudonym.DomainSender, code) == handle {
		t.Fatal("the handle must depend on the pepper and the domain")
	}
	if err := s.SetAgencies(ctx, handle, []string{"pe-lima", "pe-east"}); err != nil {
		t.Fatal(err)
	}
	const question, answer = "canary-question: how many people?", "canary-answer: twelve"
	if err := s.PostQuestion(ctx, handle, question); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAnswer(ctx, handle, answer); err != nil {
		t.Fatal(err)
	}
	th, err := s.Open(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if th.Info.Case != "ABCD-EFGH" || strings.Join(th.Info.Agencies, ",") != "pe-lima,pe-east" || len(th.Messages) != 2 ||
		th.Messages[0].From != followup.Officer || th.Messages[0].Text != question ||
		th.Messages[1].From != followup.Witness || th.Messages[1].Text != answer {
		t.Fatalf("thread %+v", th)
	}
	info, err := s.Info(ctx, handle)
	if err != nil || info.Case != "ABCD-EFGH" {
		t.Fatalf("Info = %+v, %v", info, err)
	}

	// Redis holds ciphertext only, under keys with a TTL.
	for _, key := range r.Keys(t) {
		if ttl := r.Admin.TTL(ctx, key).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %s has TTL %v", key, ttl)
		}
		dump := r.Admin.Dump(ctx, key).Val()
		for _, secret := range []string{"canary-question", "canary-answer", code, strings.ReplaceAll(code, "-", "")} {
			if strings.Contains(key, secret) || strings.Contains(dump, secret) {
				t.Errorf("%q found in Redis key %s", secret, key)
			}
		}
	}

	// A third message fits, a fourth does not (MaxMessages 3).
	if err := s.PostQuestion(ctx, handle, "third"); err != nil {
		t.Fatal(err)
	}
	if err := s.PostQuestion(ctx, handle, "fourth"); !errors.Is(err, followup.ErrFull) {
		t.Errorf("fourth message: %v, want ErrFull", err)
	}
	if err := s.Delete(ctx, handle); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, code); !errors.Is(err, followup.ErrNotFound) {
		t.Errorf("after Delete: %v, want ErrNotFound", err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	s, _, code, handle := newThread(t)
	unknown, _ := s.Handle(followup.NewCode())
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"open unknown code", func() error { _, err := s.Open(ctx, followup.NewCode()); return err }(), followup.ErrNotFound},
		{"open mistyped code", func() error { _, err := s.Open(ctx, code[:17]); return err }(), followup.ErrBadCode},
		{"question to unknown thread", s.PostQuestion(ctx, unknown, "hello"), followup.ErrNotFound},
		{"question to a malformed handle", s.PostQuestion(ctx, "hl:followup:{x}", "hello"), followup.ErrBadHandle},
		{"empty question", s.PostQuestion(ctx, handle, "  \n"), followup.ErrEmpty},
		{"long question", s.PostQuestion(ctx, handle, strings.Repeat("x", followup.MaxMessageBytes+1)), followup.ErrTooLong},
		{"info of unknown thread", func() error { _, err := s.Info(ctx, unknown); return err }(), followup.ErrNotFound},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func TestUnavailable(t *testing.T) {
	r := queuetest.New(t)
	k, _ := pseudonym.New(bytes.Repeat([]byte("followup-pepper!"), 2))
	s := followup.New(r.Client, k, followup.Options{Prefix: r.Prefix})
	r.Client.Close()
	if _, err := s.Create(context.Background(), followup.NewCode(), "ABCD-EFGH"); !errors.Is(err, followup.ErrUnavailable) {
		t.Errorf("Create on a closed client: %v, want ErrUnavailable", err)
	}
}

func TestDeleteCaseShredsTheThread(t *testing.T) {
	s, r, code, h := newThread(t)
	ctx := context.Background()
	if err := s.DeleteCase(ctx, "ABCD-EFGH"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(ctx, h); !errors.Is(err, followup.ErrNotFound) {
		t.Fatalf("thread after DeleteCase: %v", err)
	}
	if _, err := s.Open(ctx, code); err == nil {
		t.Fatal("the receipt code still opens the thread")
	}
	if keys := r.Keys(t); len(keys) != 0 {
		t.Fatalf("keys left: %v", keys)
	}
	if err := s.DeleteCase(ctx, "ZZZZ-ZZZZ"); err != nil {
		t.Fatalf("DeleteCase of a case without a thread: %v", err)
	}
}

// FuzzNormalizeCode: whatever is typed, a code that is accepted comes back
// in one of the two display forms, and accepting is idempotent.
func FuzzNormalizeCode(f *testing.F) {
	f.Add(followup.NewCode())
	f.Add("k7qh 2mxd 9rt4 wboc")
	f.Add(legacyCode("23456789ABCDEFGHJKLMNPQRST"))
	f.Add("ｋ７ｑｈ－２ｍｘｄ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := followup.NormalizeCode(s)
		if err != nil {
			return
		}
		if len(c) != 19 && len(c) != 34 {
			t.Fatalf("NormalizeCode(%q) = %q: not a display form", s, c)
		}
		if c2, err := followup.NormalizeCode(c); err != nil || c2 != c {
			t.Fatalf("NormalizeCode(%q) = %q, %v; want it unchanged", c, c2, err)
		}
	})
}

// TestOpensThreadsOfEarlierReleases: a thread written before the sealing
// moved to crypto/seal (testdata: its receipt code, public key, locked key
// and an officer's question, as Create and PostQuestion stored them) still
// opens, and takes new messages.
func TestOpensThreadsOfEarlierReleases(t *testing.T) {
	b, err := os.ReadFile("testdata/thread.json")
	if err != nil {
		t.Fatal(err)
	}
	var old struct {
		Code      string   `json:"code"`
		Recipient string   `json:"recipient"`
		Key       []byte   `json:"key"`
		Messages  [][]byte `json:"messages"`
	}
	if err := json.Unmarshal(b, &old); err != nil {
		t.Fatal(err)
	}
	s, r, _ := newStore(t)
	ctx := context.Background()
	handle, err := s.Handle(old.Code)
	if err != nil {
		t.Fatal(err)
	}
	key := r.Prefix + ":followup:{" + handle + "}"
	r.Client.HSet(ctx, key, "case", "CCCC-CCCC", "recipient", old.Recipient, "key", old.Key, "created", 1)
	r.Client.Expire(ctx, key, time.Hour)
	r.Client.RPush(ctx, key+":msgs", old.Messages[0])
	if err := s.AddAnswer(ctx, handle, "sí, en el mismo"); err != nil {
		t.Fatal(err)
	}
	th, err := s.Open(ctx, old.Code)
	if err != nil {
		t.Fatalf("earlier thread: %v", err)
	}
	if len(th.Messages) != 2 || th.Messages[0].From != followup.Officer || th.Messages[0].Text != "¿Sigue en el mismo lugar?" ||
		th.Messages[1].Text != "sí, en el mismo" {
		t.Fatalf("earlier thread = %+v", th.Messages)
	}
}

func benchStore(b *testing.B) *followup.Store {
	r := queuetest.New(b)
	k, err := pseudonym.New(bytes.Repeat([]byte("followup-pepper!"), 2))
	if err != nil {
		b.Fatal(err)
	}
	return followup.New(r.Client, k, followup.Options{Prefix: r.Prefix, TTL: time.Minute})
}

// BenchmarkCreate is the follow-up part of one web report: a thread with
// its key locked to the receipt code (against real Redis).
func BenchmarkCreate(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Create(ctx, followup.NewCode(), "ABCD-EFGH"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen is one visit of /followup: the thread's key unlocked with
// the code, and one message opened.
func BenchmarkOpen(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	code := followup.NewCode()
	h, err := s.Create(ctx, code, "ABCD-EFGH")
	if err != nil {
		b.Fatal(err)
	}
	if err := s.PostQuestion(ctx, h, "¿Sigue en el mismo lugar?"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(ctx, code); err != nil {
			b.Fatal(err)
		}
	}
}

// TestThreadKeyNeedsThePepper: a new thread's key is locked without scrypt,
// with a secret keyed by the pepper: the code alone does not open it, even
// where the thread is found.
func TestThreadKeyNeedsThePepper(t *testing.T) {
	s, r, code, handle := newThread(t)
	ctx := context.Background()
	key := r.Prefix + ":followup:{" + handle + "}"
	locked, err := r.Client.HGet(ctx, key, "key").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(locked, []byte("age-encryption.org/")) || bytes.Contains(locked, []byte("scrypt")) {
		t.Fatalf("a new thread's key is locked with scrypt: %.40q", locked)
	}
	if _, err := s.Open(ctx, code); err != nil {
		t.Fatal(err)
	}
	// The same thread under the handle another pepper gives the code.
	k2, err := pseudonym.New(bytes.Repeat([]byte("another-pepper!!"), 2))
	if err != nil {
		t.Fatal(err)
	}
	s2 := followup.New(r.Client, k2, followup.Options{Prefix: r.Prefix, TTL: time.Hour})
	h2, err := s2.Handle(code)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := r.Client.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	r.Client.HSet(ctx, r.Prefix+":followup:{"+h2+"}", fields)
	if _, err := s2.Open(ctx, code); err == nil {
		t.Fatal("the thread's key opened under another pepper")
	}
}
