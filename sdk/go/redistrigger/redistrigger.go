// Package redistrigger handles the messages of a Redis trigger
// ([[trigger.redis]] in spin.toml): the module exports
// fermyon:spin/inbound-redis#handle-message, which Wisp (and Spin 2 and 3)
// call with each message published on the trigger's channel, in a fresh
// instance.
//
// Register the handler from init; a reactor's main is never run:
//
//	func init() {
//		redistrigger.Handle(func(payload []byte) error {
//			log.Printf("got %q", payload)
//			return nil
//		})
//	}
//
// A handler's error (or panic) is reported to the host, which logs it;
// the message is not redelivered.
package redistrigger

var handler func(payload []byte) error

// Handle registers f as the module's Redis message handler.
func Handle(f func(payload []byte) error) { handler = f }
