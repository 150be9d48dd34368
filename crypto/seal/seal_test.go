package seal_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/plugin"

	"github.com/hotline-org/hotline/crypto/internal/upstream"
	"github.com/hotline-org/hotline/crypto/seal"
)

// keyPair is an identity and the recipient string that goes with it.
type keyPair struct {
	id        age.Identity
	secret    string // the identity's encoding; must never appear in an error
	recipient string
}

func newPair(t testing.TB, kind seal.Kind) keyPair {
	t.Helper()
	switch kind {
	case seal.KindX25519:
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		return keyPair{id: id, secret: id.String(), recipient: id.Recipient().String()}
	case seal.KindPostQuantum:
		id, err := age.GenerateHybridIdentity()
		if err != nil {
			t.Fatal(err)
		}
		return keyPair{id: id, secret: id.String(), recipient: id.Recipient().String()}
	}
	t.Fatalf("no key generator for kind %q", kind)
	return keyPair{}
}

func newPairs(t testing.TB, kind seal.Kind, n int) []keyPair {
	t.Helper()
	ps := make([]keyPair, n)
	for i := range ps {
		ps[i] = newPair(t, kind)
	}
	return ps
}

func recipientsOf(ps []keyPair) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.recipient
	}
	return out
}

// pluginRecipient is a syntactically valid recipient of a plugin that is not
// installed: it parses, and would fail only when sealing.
func pluginRecipient(t testing.TB) string { return pluginEncoded(t, plugin.EncodeRecipient, 33) }

// pluginIdentity is a syntactically valid plugin identity. It is secret
// material as far as the code under test knows.
func pluginIdentity(t testing.TB) string { return pluginEncoded(t, plugin.EncodeIdentity, 32) }

// pluginEncoded encodes n random bytes as a key of age-plugin-yubikey.
func pluginEncoded(t testing.TB, encode func(name string, data []byte) string, n int) string {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	s := encode("yubikey", data)
	if s == "" {
		t.Fatal("could not encode a plugin key")
	}
	return s
}

// sealFor seals plaintext to p alone.
func sealFor(t testing.TB, p keyPair, plaintext []byte) []byte {
	t.Helper()
	sealed, err := mustParse(t, []string{p.recipient}).Seal(plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func mustParse(t testing.TB, lines []string) *seal.Recipients {
	t.Helper()
	return mustParseWith(t, lines, false)
}

func TestSealOpenRoundTrip(t *testing.T) {
	plaintext := []byte(`{"text":"they took our passports, boat 7 at the north pier"}`)
	for _, kind := range []seal.Kind{seal.KindX25519, seal.KindPostQuantum} {
		for _, n := range []int{1, 3} {
			t.Run(string(kind)+"/"+strings.Repeat("r", n), func(t *testing.T) {
				pairs := newPairs(t, kind, n)
				rs := mustParse(t, recipientsOf(pairs))
				if rs.Kind() != kind {
					t.Errorf("Kind() = %q, want %q", rs.Kind(), kind)
				}
				if rs.Len() != n {
					t.Errorf("Len() = %d, want %d", rs.Len(), n)
				}
				sealed, err := rs.Seal(plaintext)
				if err != nil {
					t.Fatalf("Seal: %v", err)
				}
				if bytes.Contains(sealed, plaintext[10:40]) {
					t.Fatal("sealed output contains the plaintext")
				}
				if !bytes.HasPrefix(sealed, []byte("age-encryption.org/v1\n")) {
					t.Fatalf("sealed output is not a binary age file: %q", sealed[:min(len(sealed), 40)])
				}
				for i, p := range pairs {
					got, err := seal.Open(sealed, p.id)
					if err != nil {
						t.Fatalf("recipient %d cannot open: %v", i, err)
					}
					if !bytes.Equal(got, plaintext) {
						t.Fatalf("recipient %d opened %q, want %q", i, got, plaintext)
					}
				}

				// Someone else's key, of either kind, opens nothing.
				for _, foreignKind := range []seal.Kind{seal.KindX25519, seal.KindPostQuantum} {
					foreign := newPair(t, foreignKind)
					_, err = seal.Open(sealed, foreign.id)
					var nm *age.NoIdentityMatchError
					if !errors.As(err, &nm) {
						t.Fatalf("foreign %s identity: err = %v, want *age.NoIdentityMatchError", foreignKind, err)
					}
				}

				// A second seal of the same text is a different file.
				again, err := rs.Seal(plaintext)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(again, sealed) {
					t.Fatal("two seals of the same plaintext are identical")
				}
			})
		}
	}
}

func TestSealEmptyAndLargePlaintext(t *testing.T) {
	p := newPair(t, seal.KindX25519)
	rs := mustParse(t, []string{p.recipient})
	// 64 KiB is age's chunk size: cover empty, exactly one chunk and more.
	for _, size := range []int{0, 1, 64 << 10, 64<<10 + 1, 200_000} {
		plaintext := make([]byte, size)
		rand.Read(plaintext)
		sealed, err := rs.Seal(plaintext)
		if err != nil {
			t.Fatalf("size %d: Seal: %v", size, err)
		}
		got, err := seal.Open(sealed, p.id)
		if err != nil {
			t.Fatalf("size %d: Open: %v", size, err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Fatalf("size %d: round trip changed the plaintext", size)
		}
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	p := newPair(t, seal.KindPostQuantum)
	sealed := sealFor(t, p, []byte("a tip that must not be altered"))
	tests := []struct {
		name   string
		mangle func([]byte) []byte
	}{
		{"last byte flipped", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"truncated payload", func(b []byte) []byte { return b[:len(b)-5] }},
		{"header only", func(b []byte) []byte { return b[:bytes.Index(b, []byte("\n---"))+1] }},
		{"header byte flipped", func(b []byte) []byte { b[30] ^= 1; return b }},
		{"empty", func([]byte) []byte { return nil }},
		{"not age", func([]byte) []byte { return []byte("hello, officer") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.mangle(bytes.Clone(sealed))
			got, err := seal.Open(in, p.id)
			if err == nil {
				t.Fatalf("Open accepted a mangled file and returned %q", got)
			}
		})
	}
}

func TestOpenNoIdentities(t *testing.T) {
	p := newPair(t, seal.KindX25519)
	sealed := sealFor(t, p, []byte("x"))
	if _, err := seal.Open(sealed); err == nil {
		t.Fatal("Open with no identities succeeded")
	}
}

func TestOpenSizeLimit(t *testing.T) {
	p := newPair(t, seal.KindX25519)

	over := make([]byte, seal.MaxSealedSize+1)
	_, err := seal.Open(over, p.id)
	if err == nil || !strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("Open(%d bytes) = %v, want the size-limit error", len(over), err)
	}

	// At the limit the size check passes and age itself rejects the garbage.
	at := over[:seal.MaxSealedSize]
	_, err = seal.Open(at, p.id)
	if err == nil {
		t.Fatal("Open of garbage succeeded")
	}
	if strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("Open(%d bytes) hit the size limit: %v", len(at), err)
	}
}

// TestInteropWithUpstreamAge proves the format is plain age: what seal
// writes, age.Decrypt reads, and what age.Encrypt writes, seal.Open reads.
func TestInteropWithUpstreamAge(t *testing.T) {
	plaintext := []byte("interoperable with the age CLI and every other implementation")
	for _, kind := range []seal.Kind{seal.KindX25519, seal.KindPostQuantum} {
		t.Run(string(kind), func(t *testing.T) {
			pairs := newPairs(t, kind, 2)

			// seal -> upstream age.
			sealed, err := mustParse(t, recipientsOf(pairs)).Seal(plaintext)
			if err != nil {
				t.Fatal(err)
			}
			opensWithEach := func(what string, file []byte, open func([]byte, ...age.Identity) ([]byte, error)) {
				t.Helper()
				for i, p := range pairs {
					if got, err := open(file, p.id); err != nil || !bytes.Equal(got, plaintext) {
						t.Fatalf("%s with identity %d: %q, %v", what, i, got, err)
					}
				}
			}
			opensWithEach("age.Decrypt of a sealed tip", sealed, upstream.Decrypt)

			// upstream age -> seal.Open, with recipients parsed by age itself.
			parsed, err := age.ParseRecipients(strings.NewReader(strings.Join(recipientsOf(pairs), "\n")))
			if err != nil {
				t.Fatal(err)
			}
			opensWithEach("seal.Open of an age.Encrypt file", upstream.Encrypt(t, plaintext, parsed...), seal.Open)
		})
	}
}

// containsSecret reports which of secrets, if any, s quotes. A bech32 string
// may be shown in either case, so the comparison ignores case.
func containsSecret(s string, secrets ...string) (string, bool) {
	up := strings.ToUpper(s)
	for _, sec := range secrets {
		if sec != "" && strings.Contains(up, strings.ToUpper(sec)) {
			return sec, true
		}
		// Even a recognisable part of the key is too much.
		if len(sec) > 40 && strings.Contains(up, strings.ToUpper(sec[20:40])) {
			return sec, true
		}
	}
	return "", false
}

func TestParseRecipients(t *testing.T) {
	x := newPairs(t, seal.KindX25519, 3)
	pq := newPairs(t, seal.KindPostQuantum, 3)
	plug := pluginRecipient(t)
	plugID := pluginIdentity(t)
	secrets := []string{x[0].secret, x[1].secret, pq[0].secret, pq[1].secret, plugID}

	tests := []struct {
		name      string
		lines     []string
		wantKind  seal.Kind
		wantLen   int
		wantErr   error  // matched with errors.Is; nil with wantMsg means any error
		wantMsg   string // substring of the error
		wantIndex int    // of the *RecipientError, when wantErr or wantMsg is set; -1 for none
	}{
		{name: "one x25519", lines: []string{x[0].recipient}, wantKind: seal.KindX25519, wantLen: 1},
		{name: "three x25519", lines: recipientsOf(x), wantKind: seal.KindX25519, wantLen: 3},
		{name: "one pq", lines: []string{pq[0].recipient}, wantKind: seal.KindPostQuantum, wantLen: 1},
		{name: "three pq", lines: recipientsOf(pq), wantKind: seal.KindPostQuantum, wantLen: 3},
		{name: "surrounding space", lines: []string{"  " + x[0].recipient + "\t\r\n"}, wantKind: seal.KindX25519, wantLen: 1},
		{name: "plugin", lines: []string{plug}, wantKind: seal.KindPlugin, wantLen: 1},
		{name: "plugin with x25519", lines: []string{plug, x[0].recipient}, wantLen: 2, wantKind: seal.KindX25519},
		{name: "plugin with pq", lines: []string{pq[0].recipient, plug}, wantLen: 2, wantKind: seal.KindPostQuantum},

		{name: "x25519 identity", lines: []string{x[0].secret}, wantErr: seal.ErrIdentityNotRecipient, wantIndex: 0},
		{name: "pq identity", lines: []string{pq[0].secret}, wantErr: seal.ErrIdentityNotRecipient, wantIndex: 0},
		{name: "plugin identity", lines: []string{plugID}, wantErr: seal.ErrIdentityNotRecipient, wantIndex: 0},
		{name: "lowercased identity", lines: []string{strings.ToLower(x[1].secret)}, wantErr: seal.ErrIdentityNotRecipient, wantIndex: 0},
		{name: "identity with spaces", lines: []string{"  " + pq[1].secret + " "}, wantErr: seal.ErrIdentityNotRecipient, wantIndex: 0},
		{name: "identity third", lines: []string{x[0].recipient, x[1].recipient, x[1].secret}, wantErr: seal.ErrIdentityNotRecipient, wantMsg: "recipient 3", wantIndex: 2},
		// The output of age-keygen pasted whole, or a recipient and its key on
		// one line: the identity must be recognised, not quoted back.
		{name: "identity after recipient on one line", lines: []string{x[0].recipient + " " + x[0].secret}, wantErr: seal.ErrIdentityNotRecipient, wantIndex: 0},
		{name: "identity after pq recipient in one item", lines: []string{pq[0].recipient + "\n" + pq[0].secret}, wantErr: seal.ErrIdentityNotRecipient, wantIndex: 0},
		{name: "keygen output", lines: []string{"# public key: " + x[1].recipient + "\n" + x[1].secret}, wantErr: seal.ErrIdentityNotRecipient, wantIndex: 0},

		{name: "pq then x25519", lines: []string{pq[0].recipient, x[0].recipient}, wantErr: seal.ErrMixedKinds, wantIndex: 1},
		{name: "x25519 then pq", lines: []string{x[0].recipient, x[1].recipient, pq[0].recipient}, wantErr: seal.ErrMixedKinds, wantIndex: 2},
		{name: "plugin then pq then x25519", lines: []string{plug, pq[0].recipient, x[0].recipient}, wantErr: seal.ErrMixedKinds, wantIndex: 2},
		{name: "x25519 then plugin then pq", lines: []string{x[0].recipient, plug, pq[0].recipient}, wantErr: seal.ErrMixedKinds, wantIndex: 2},

		{name: "empty list", lines: nil, wantMsg: "no recipients", wantIndex: -1},
		{name: "empty slice", lines: []string{}, wantMsg: "no recipients", wantIndex: -1},
		{name: "empty item", lines: []string{""}, wantMsg: "not an age recipient", wantIndex: 0},
		{name: "garbage", lines: []string{"hello"}, wantMsg: "not an age recipient", wantIndex: 0},
		{name: "ssh ed25519", lines: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl officer@laptop"}, wantMsg: "SSH keys are not accepted", wantIndex: 0},
		{name: "ssh rsa", lines: []string{x[0].recipient, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ"}, wantMsg: "SSH keys are not accepted", wantIndex: 1},
		{name: "x25519 bad checksum", lines: []string{x[0].recipient[:61] + flip(x[0].recipient[61])}, wantMsg: "malformed", wantIndex: 0},
		{name: "x25519 truncated", lines: []string{x[0].recipient[:50]}, wantMsg: "malformed", wantIndex: 0},
		{name: "pq truncated", lines: []string{pq[0].recipient[:200]}, wantMsg: "malformed post-quantum recipient", wantIndex: 0},
		{name: "uppercase recipient", lines: []string{strings.ToUpper(x[0].recipient)}, wantMsg: "not an age recipient", wantIndex: 0},
		{name: "bare prefix", lines: []string{"age1"}, wantMsg: "malformed", wantIndex: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := seal.ParseRecipients(tt.lines)
			if tt.wantErr == nil && tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("ParseRecipients: %v", err)
				}
				if rs.Kind() != tt.wantKind {
					t.Errorf("Kind() = %q, want %q", rs.Kind(), tt.wantKind)
				}
				if rs.Len() != tt.wantLen {
					t.Errorf("Len() = %d, want %d", rs.Len(), tt.wantLen)
				}
				want := make([]string, len(tt.lines))
				for i, l := range tt.lines {
					want[i] = strings.TrimSpace(l)
				}
				if got := rs.Strings(); strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("Strings() = %q, want %q", got, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseRecipients accepted %d line(s), kind %s", rs.Len(), rs.Kind())
			}
			if rs != nil {
				t.Error("a set was returned along with the error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
			var re *seal.RecipientError
			switch {
			case tt.wantIndex < 0 && errors.As(err, &re):
				t.Errorf("got a *RecipientError for index %d, want none", re.Index)
			case tt.wantIndex >= 0 && !errors.As(err, &re):
				t.Errorf("err %T is not a *RecipientError", err)
			case tt.wantIndex >= 0 && re.Index != tt.wantIndex:
				t.Errorf("RecipientError.Index = %d, want %d", re.Index, tt.wantIndex)
			}
			if sec, ok := containsSecret(err.Error(), secrets...); ok {
				t.Errorf("error quotes secret key material %.25s...: %q", sec, err)
			}
		})
	}
}

// flip returns a different bech32 character than c.
func flip(c byte) string {
	if c == 'q' {
		return "p"
	}
	return "q"
}

func TestRecipientsStringsIsACopy(t *testing.T) {
	p := newPair(t, seal.KindX25519)
	rs := mustParse(t, []string{p.recipient})
	s := rs.Strings()
	s[0] = "changed"
	if rs.Strings()[0] != p.recipient {
		t.Fatal("Strings() exposes the set's own slice")
	}
}

func TestSealToMissingPluginFails(t *testing.T) {
	// A plugin recipient parses without the plugin, but sealing needs it: the
	// error must say so rather than produce something nobody can open.
	t.Setenv("PATH", t.TempDir())
	rs := mustParse(t, []string{pluginRecipient(t)})
	if _, err := rs.Seal([]byte("tip")); err == nil {
		t.Fatal("sealing to a plugin that is not installed succeeded")
	}
}

func TestKeyring(t *testing.T) {
	lima := newPair(t, seal.KindPostQuantum)
	cusco := newPair(t, seal.KindX25519)
	sets := map[string]*seal.Recipients{
		"pe-lima":  mustParse(t, []string{lima.recipient}),
		"pe-cusco": mustParse(t, []string{cusco.recipient}),
	}
	k := seal.NewKeyring(sets)
	// The keyring keeps its own map: a later change to the caller's map does
	// not re-route tips.
	sets["pe-lima"] = sets["pe-cusco"]
	delete(sets, "pe-cusco")

	tests := []struct {
		agency  string
		opener  *keyPair
		other   *keyPair
		wantErr string
	}{
		{agency: "pe-lima", opener: &lima, other: &cusco},
		{agency: "pe-cusco", opener: &cusco, other: &lima},
		{agency: "pe-puno", wantErr: "no recipients for agency pe-puno"},
		{agency: "", wantErr: "no recipients for agency"},
	}
	for _, tt := range tests {
		t.Run(tt.agency, func(t *testing.T) {
			sealed, err := k.ToAgency(tt.agency, []byte("tip for "+tt.agency))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ToAgency(%q) = %v, want error %q", tt.agency, err, tt.wantErr)
				}
				if sealed != nil {
					t.Fatal("ciphertext returned with an error")
				}
				if k.Recipients(tt.agency) != nil {
					t.Fatal("Recipients of an unknown agency is not nil")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := seal.Open(sealed, tt.opener.id)
			if err != nil || string(got) != "tip for "+tt.agency {
				t.Fatalf("the agency's own key: %q, %v", got, err)
			}
			if _, err := seal.Open(sealed, tt.other.id); err == nil {
				t.Fatal("another agency's key opened the tip")
			}
			if k.Recipients(tt.agency).Strings()[0] != tt.opener.recipient {
				t.Fatal("Recipients returned another agency's set")
			}
		})
	}
}

// The FastX25519 option picks crypto/x25519 for X25519 recipients only, and
// what it seals opens with the same identities; without it, upstream's.
func TestParseRecipientsWithFastX25519(t *testing.T) {
	pairs := newPairs(t, seal.KindX25519, 2)
	for _, tc := range []struct {
		fast         bool
		want, writer string
	}{{false, "*age.X25519Recipient", "age.Encrypt"}, {true, "*x25519.Recipient", "x25519.Seal"}} {
		rs, err := seal.ParseRecipientsWith(recipientsOf(pairs), seal.Options{FastX25519: tc.fast})
		if err != nil {
			t.Fatal(err)
		}
		if got := seal.Implementations(rs); got[0] != tc.want || got[1] != tc.want {
			t.Errorf("fast=%v: implementations %v, want %s", tc.fast, got, tc.want)
		}
		if got := seal.Writer(rs); got != tc.writer {
			t.Errorf("fast=%v: files written by %s, want %s", tc.fast, got, tc.writer)
		}
		if rs.Kind() != seal.KindX25519 || strings.Join(rs.Strings(), " ") != strings.Join(recipientsOf(pairs), " ") {
			t.Errorf("fast=%v: kind %s, strings %v", tc.fast, rs.Kind(), rs.Strings())
		}
		sealed, err := rs.Seal([]byte("tip"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs {
			if got, err := seal.Open(sealed, p.id); err != nil || string(got) != "tip" {
				t.Errorf("fast=%v: open: %q, %v", tc.fast, got, err)
			}
		}
		pq := newPair(t, seal.KindPostQuantum)
		if got := seal.Implementations(mustParseWith(t, []string{pq.recipient}, tc.fast)); got[0] != "*age.HybridRecipient" {
			t.Errorf("fast=%v: post-quantum recipient sealed by %s", tc.fast, got[0])
		}
		_, err = seal.ParseRecipientsWith([]string{pairs[0].recipient, pq.recipient}, seal.Options{FastX25519: tc.fast})
		if !errors.Is(err, seal.ErrMixedKinds) {
			t.Errorf("fast=%v: mixed kinds: %v", tc.fast, err)
		}
		// flip changes the last character, which breaks the checksum (a
		// fixed "q" was the real one once in 32 runs).
		for _, bad := range []string{pairs[0].secret, pairs[0].recipient[:61] + flip(pairs[0].recipient[61]), "age1" + strings.Repeat("q", 58)} {
			_, err := seal.ParseRecipientsWith([]string{bad}, seal.Options{FastX25519: tc.fast})
			if err == nil {
				t.Errorf("fast=%v: accepted a malformed recipient", tc.fast)
			} else if _, leak := containsSecret(err.Error(), pairs[0].secret); leak {
				t.Errorf("fast=%v: error quotes the identity", tc.fast)
			}
		}
	}
}

func mustParseWith(t testing.TB, lines []string, fast bool) *seal.Recipients {
	t.Helper()
	rs, err := seal.ParseRecipientsWith(lines, seal.Options{FastX25519: fast})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
