package seal_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hotline-org/hotline/crypto/seal"
)

type record struct {
	From string `json:"from"`
	N    int    `json:"n"`
}

func TestReplyKey(t *testing.T) {
	g, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	file := "# created: 2026-01-01T00:00:00Z\n# kind: x25519\n# public key: " + g.Recipient + "\n\n" + g.Identity + "\n"
	key, err := seal.ParseReplyKey([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if key.Recipient() != g.Recipient {
		t.Fatalf("recipient = %s, want %s", key.Recipient(), g.Recipient)
	}
	for _, s := range []string{key.String(), fmt.Sprintf("%v %+v %#v", key, key, key)} {
		if strings.Contains(strings.ToUpper(s), "AGE-SECRET-KEY") {
			t.Fatalf("the reply key printed its identity: %s", s)
		}
	}
	in := record{From: "+51987654321", N: 7}
	sealed, err := key.SealJSON("test", in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("987654321")) {
		t.Fatal("the record is in clear")
	}
	var out record
	if err := key.OpenJSON("test", sealed, &out); err != nil || out != in {
		t.Fatalf("opened %+v, %v", out, err)
	}
	// Loaded again (a restart), the key opens what it sealed before.
	again, err := seal.ParseReplyKey([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	out = record{}
	if err := again.OpenJSON("test", sealed, &out); err != nil || out != in {
		t.Fatalf("reloaded key opened %+v, %v", out, err)
	}
	// Two records of the same value differ (a fresh nonce each).
	if twice, _ := key.SealJSON("test", in); bytes.Equal(twice, sealed) {
		t.Fatal("the same record sealed twice is the same bytes")
	}
	// A record is no age file: age does not take it for one, and it
	// starts with neither age header.
	ids, err := seal.ParseIdentities(strings.NewReader(g.Identity), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.Open(sealed, ids...); err == nil {
		t.Fatal("age opened a record of the current format")
	}
	if bytes.HasPrefix(sealed, []byte("age-encryption.org/")) || bytes.HasPrefix(sealed, []byte("-----BEGIN")) ||
		sealed[0] == 'a' || sealed[0] == '-' {
		t.Fatalf("a record starts like an age file: %q", sealed[:4])
	}
	if len(sealed) > 100 {
		t.Fatalf("a %d-byte record sealed to %d bytes", len(`{"from":"+51987654321","n":7}`), len(sealed))
	}

	other, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.SealJSON("test", in)
	out = record{}
	if err := key.OpenJSON("test", foreign, &out); !errors.Is(err, seal.ErrRecordUnreadable) || out != (record{}) {
		t.Fatalf("another key's record: %+v, %v; want ErrRecordUnreadable", out, err)
	}
	if err := key.OpenJSON("test", make([]byte, seal.MaxRecordSize+1), &out); !errors.Is(err, seal.ErrTooLarge) {
		t.Fatalf("an oversized record: %v, want ErrTooLarge", err)
	}
	big := record{From: strings.Repeat("x", seal.MaxRecordSize)}
	if _, err := key.SealJSON("test", big); !errors.Is(err, seal.ErrTooLarge) {
		t.Fatalf("sealing an oversized record: %v, want ErrTooLarge", err)
	}
	for _, short := range [][]byte{nil, {}, sealed[:1], sealed[:40]} {
		if err := key.OpenJSON("test", short, &out); err == nil {
			t.Fatalf("a %d-byte record opened", len(short))
		}
	}
}

// TestReplyKeyOpensAgeRecords: records sealed before the AEAD format, as
// age files to the key's own recipient (with upstream age or
// crypto/x25519), still open; another key's do not.
func TestReplyKeyOpensAgeRecords(t *testing.T) {
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	in := record{From: "+51987654321", N: 7}
	for _, fast := range []bool{false, true} {
		sealed := ageRecord(t, key, in, fast)
		var out record
		if err := key.OpenJSON("test", sealed, &out); err != nil || out != in {
			t.Fatalf("fast=%v: earlier record opened %+v, %v", fast, out, err)
		}
		var noMatch *age.NoIdentityMatchError
		if err := other.OpenJSON("test", sealed, &out); !errors.As(err, &noMatch) {
			t.Fatalf("fast=%v: another key opened an earlier record: %v", fast, err)
		}
		if err := key.OpenJSON("test", sealed[:len(sealed)-1], &out); err == nil {
			t.Fatalf("fast=%v: a truncated earlier record opened", fast)
		}
	}
}

// fixtureReplyKey is the reply key in testdata.
func fixtureReplyKey(t testing.TB) *seal.ReplyKey {
	t.Helper()
	b, err := os.ReadFile("testdata/reply.key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := seal.ParseReplyKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// fixtureAgeRecord is {"from":"+51987654321","n":7} sealed to the reply
// key in testdata by a release before the AEAD format.
func fixtureAgeRecord(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/record.age")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplyKeyOpensAgeFixture: a record an earlier release wrote (testdata)
// opens with the key loaded from its file.
func TestReplyKeyOpensAgeFixture(t *testing.T) {
	var out record
	if err := fixtureReplyKey(t).OpenJSON("test", fixtureAgeRecord(t), &out); err != nil || out != (record{From: "+51987654321", N: 7}) {
		t.Fatalf("earlier record opened %+v, %v", out, err)
	}
}

// ageRecord seals v as ReplyKey.SealJSON did before the AEAD format.
func ageRecord(t testing.TB, key *seal.ReplyKey, v any, fast bool) []byte {
	t.Helper()
	rs, err := seal.ParseRecipientsWith([]string{key.Recipient()}, seal.Options{FastX25519: fast})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := rs.SealJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// TestReplyKeyTamper: a record with any bit flipped, or cut short, does not
// open (nor does it open to something else).
func TestReplyKeyTamper(t *testing.T) {
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	in := record{From: "+51987654321", N: 7}
	sealed, err := key.SealJSON("test", in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for bit := range 8 {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= 1 << bit
			var out record
			if err := key.OpenJSON("test", tampered, &out); err == nil {
				t.Fatalf("byte %d bit %d flipped: opened %+v", i, bit, out)
			}
		}
	}
	for n := range len(sealed) {
		var out record
		if err := key.OpenJSON("test", sealed[:n], &out); err == nil {
			t.Fatalf("cut to %d bytes: opened %+v", n, out)
		}
	}
	var out record
	if err := key.OpenJSON("test", append(bytes.Clone(sealed), 0), &out); err == nil {
		t.Fatal("a record with a byte appended opened")
	}
}

func TestParseReplyKeyRefuses(t *testing.T) {
	pq, x := newPair(t, seal.KindPostQuantum), newPair(t, seal.KindX25519)
	for name, file := range map[string]string{
		"empty":        "",
		"comments":     "# nothing\n",
		"post-quantum": pq.secret + "\n",
		"recipient":    x.recipient + "\n",
		"mangled":      x.secret[:len(x.secret)-2] + "\n",
	} {
		_, err := seal.ParseReplyKey([]byte(file))
		if !errors.Is(err, seal.ErrNotReplyKey) {
			t.Errorf("%s: %v, want ErrNotReplyKey", name, err)
		}
		if line := strings.TrimSpace(file); err != nil && len(line) > 20 && strings.Contains(err.Error(), line[10:]) {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
}

func TestOpenLimited(t *testing.T) {
	p := newPair(t, seal.KindX25519)
	plain := bytes.Repeat([]byte("x"), 1000)
	sealed := sealFor(t, p, plain)
	if got, err := seal.OpenLimited(sealed, len(sealed), p.id); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("at the limit: %d bytes, %v", len(got), err)
	}
	if _, err := seal.OpenLimited(sealed, len(sealed)-1, p.id); !errors.Is(err, seal.ErrTooLarge) {
		t.Fatalf("over the limit: %v, want ErrTooLarge", err)
	}
	var v struct{}
	if err := seal.OpenJSON(sealed, len(sealed), &v, p.id); err == nil {
		t.Fatal("OpenJSON decoded a plaintext that is not JSON")
	}
}

func TestMatchRecipients(t *testing.T) {
	x := newPair(t, seal.KindX25519)
	pq := newPair(t, seal.KindPostQuantum)
	other := newPair(t, seal.KindX25519)
	plug := pluginLike{}
	agency := []string{x.recipient, pq.recipient}
	for _, tc := range []struct {
		name             string
		ids              []seal.Identity
		checked, matches bool
	}{
		{"x25519", []seal.Identity{x.id}, true, true},
		{"hybrid", []seal.Identity{pq.id}, true, true},
		{"wrong", []seal.Identity{other.id}, true, false},
		{"wrong and right", []seal.Identity{other.id, x.id}, true, true},
		{"plugin", []seal.Identity{plug}, false, false},
		{"plugin and right", []seal.Identity{plug, pq.id}, true, true},
	} {
		checked, matches := seal.MatchRecipients(tc.ids, agency)
		if checked != tc.checked || matches != tc.matches {
			t.Errorf("%s: checked %v matches %v, want %v %v", tc.name, checked, matches, tc.checked, tc.matches)
		}
	}
	if r, ok := seal.RecipientOf(pq.id); !ok || r != pq.recipient {
		t.Errorf("RecipientOf(post-quantum) = %s %v", r, ok)
	}
}

// pluginLike stands for a plugin identity: its recipient is unknown.
type pluginLike struct{}

func (pluginLike) Unwrap([]*age.Stanza) ([]byte, error) { return nil, age.ErrIncorrectIdentity }

// TestReplyKeyPlaces: a record opens only at the place it was sealed for
// (a handle moved to another case, or read as another kind, does not
// open); records of earlier releases, which name no place, open wherever
// they are read, and Placed tells them apart.
func TestReplyKeyPlaces(t *testing.T) {
	key := fixtureReplyKey(t)
	in := record{From: "+51987654321", N: 7}
	sealed, err := key.SealJSON("handle CASE-AAAA", in)
	if err != nil {
		t.Fatal(err)
	}
	var out record
	if err := key.OpenJSON("handle CASE-AAAA", sealed, &out); err != nil || out != in || !key.Placed("handle CASE-AAAA", sealed) {
		t.Fatalf("opened at its place: %+v, %v", out, err)
	}
	for _, place := range []string{"handle CASE-BBBB", "handle CASE-AAA", "handle CASE-AAAAA", "scrub", "", "handle CASE-AAAA ", "HANDLE CASE-AAAA"} {
		out = record{}
		if err := key.OpenJSON(place, sealed, &out); !errors.Is(err, seal.ErrRecordUnreadable) || out != (record{}) {
			t.Errorf("a handle of CASE-AAAA opened at %q: %+v, %v", place, out, err)
		}
		if key.Placed(place, sealed) {
			t.Errorf("a handle of CASE-AAAA placed at %q", place)
		}
	}
	// An empty record names its place too.
	empty, err := key.SealJSON("scrub", struct{}{})
	if err != nil || key.OpenJSON("reach", empty, &struct{}{}) == nil || key.OpenJSON("scrub", empty, &struct{}{}) != nil {
		t.Fatalf("an empty record: %v", err)
	}
	if _, err := key.SealJSON("scrub", []int{1}); err == nil {
		t.Fatal("a record that is no JSON object was sealed (it could name no place)")
	}
	// The release before places opens it (the place is a JSON field it
	// does not know).
	out = record{}
	if err := key.OpenAsBefore(sealed, &out); err != nil || out != in {
		t.Fatalf("the release before opened %+v, %v", out, err)
	}
	// Format 1 as the release before places wrote it (testdata), and an
	// age file: they open anywhere, and are not placed.
	v1, err := os.ReadFile("testdata/record.v1")
	if err != nil {
		t.Fatal(err)
	}
	for name, old := range map[string][]byte{"format 1": v1, "age": fixtureAgeRecord(t)} {
		for _, place := range []string{"handle CASE-AAAA", "scrub"} {
			out = record{}
			if err := key.OpenJSON(place, old, &out); err != nil || out != in {
				t.Errorf("%s record at %q: %+v, %v", name, place, out, err)
			}
			if key.Placed(place, old) {
				t.Errorf("a %s record placed at %q", name, place)
			}
		}
	}
}
