// Package mqtttrigger handles the messages of an MQTT trigger
// ([[trigger.mqtt]] in spin.toml, the spin-trigger-mqtt plugin's shape):
// the module exports the world-level function handle-message of
// spin:mqtt-trigger/spin-mqtt@3.0.0, which Wisp (and Spin with the plugin)
// calls with each message delivered on the trigger's topic, in a fresh
// instance.
//
// Register the handler from init; a reactor's main is never run:
//
//	func init() {
//		mqtttrigger.Handle(func(payload []byte, topic string) error {
//			log.Printf("%s: %q", topic, payload)
//			return nil
//		})
//	}
//
// topic is the topic the message was published on (the trigger's topic
// may be a filter with wildcards). A handler's error, or a panic, is
// returned to the host as the WIT error other(message), which the host
// logs; the message counts as handled and is not redelivered.
//
// The export is a plain (world-level) function, which Wisp lifts by name;
// `wisp build --component` does not make such a module a component yet.
package mqtttrigger

var handler func(payload []byte, topic string) error

// Handle registers f as the module's MQTT message handler.
func Handle(f func(payload []byte, topic string) error) { handler = f }
