package officerapi

import (
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers"
)

// Message is one message of a case as the gateway sends it, sealed for
// its holder or a supervisor.
type Message = handlers.MessageJSON

// OpenedMessage is one message of a case, opened on the officer's machine.
type OpenedMessage struct {
	ID         string          `json:"id"`
	Channel    string          `json:"channel"`
	Priority   string          `json:"priority"`
	ReceivedAt time.Time       `json:"received_at"`
	Report     *gateway.Report `json:"report"`
}

// OpenMessages opens every message of case caseRef, in order. first, if
// not nil, is the first message's report, opened already. A message that
// does not open, or that is not of this case, stops it (an OpenError).
func OpenMessages(ids *seal.Identities, caseRef string, ms []Message, first *gateway.Report) ([]OpenedMessage, error) {
	out := make([]OpenedMessage, 0, len(ms))
	for i, m := range ms {
		rep := first
		if i > 0 || rep == nil {
			var err error
			if rep, err = OpenReport(ids, m.Sealed, m.ID, caseRef); err != nil {
				return nil, err
			}
		}
		out = append(out, OpenedMessage{ID: m.ID, Channel: m.Channel, Priority: m.Priority, ReceivedAt: m.ReceivedAt, Report: rep})
	}
	return out, nil
}
