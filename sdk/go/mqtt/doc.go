// Package mqtt publishes MQTT messages from a Wisp (or Spin) component
// through fermyon:spin/mqtt@2.0.0. The address is a broker URL with a
// client id, as Spin requires ("mqtt://host:1883?client_id=my-app", or
// mqtts:// for TLS), which the component's allowed_outbound_hosts must
// allow.
//
//	conn, err := mqtt.Open("mqtt://127.0.0.1:1883?client_id=my-app", "", "", 30*time.Second)
//	err = conn.Publish("sensors/1", []byte("21.5"), mqtt.AtLeastOnce)
package mqtt

// QoS is a message's quality of service.
type QoS uint8

// The MQTT qualities of service.
const (
	AtMostOnce QoS = iota
	AtLeastOnce
	ExactlyOnce
)
