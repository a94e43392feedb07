// Package protocol holds the Airbyte protocol messages a source sends and reads, and the one
// writer that owns stdout. It knows nothing of Oura.
//
// Field names follow airbyte_protocol.yaml exactly (note the camelCase connectionStatus and
// sourceStats). Optional fields carry omitempty so that they are left out, never written as
// null or "".
package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// MessageType is the envelope's type field.
type MessageType string

// The message types a source uses.
const (
	TypeRecord           MessageType = "RECORD"
	TypeState            MessageType = "STATE"
	TypeLog              MessageType = "LOG"
	TypeSpec             MessageType = "SPEC"
	TypeConnectionStatus MessageType = "CONNECTION_STATUS"
	TypeCatalog          MessageType = "CATALOG"
	TypeTrace            MessageType = "TRACE"
	TypeControl          MessageType = "CONTROL"
)

// Message is the AirbyteMessage envelope; exactly one payload matches Type.
type Message struct {
	Type             MessageType       `json:"type"`
	Log              *LogMessage       `json:"log,omitempty"`
	Spec             json.RawMessage   `json:"spec,omitempty"`
	ConnectionStatus *ConnectionStatus `json:"connectionStatus,omitempty"`
	Catalog          *Catalog          `json:"catalog,omitempty"`
	Record           *Record           `json:"record,omitempty"`
	State            *StateMessage     `json:"state,omitempty"`
	Trace            *Trace            `json:"trace,omitempty"`
	Control          *Control          `json:"control,omitempty"`
}

// Level is an AirbyteLogMessage level.
type Level string

// Log levels, as the protocol spells them.
const (
	LevelFatal Level = "FATAL"
	LevelError Level = "ERROR"
	LevelWarn  Level = "WARN"
	LevelInfo  Level = "INFO"
	LevelDebug Level = "DEBUG"
	LevelTrace Level = "TRACE"
)

// LogMessage is the LOG payload.
type LogMessage struct {
	Level      Level  `json:"level"`
	Message    string `json:"message"`
	StackTrace string `json:"stack_trace,omitempty"`
}

// Status is a CONNECTION_STATUS outcome.
type Status string

// Connection outcomes.
const (
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
)

// ConnectionStatus is the CONNECTION_STATUS payload.
type ConnectionStatus struct {
	Status  Status `json:"status"`
	Message string `json:"message,omitempty"`
}

// SyncMode is how a stream is read.
type SyncMode string

// The two sync modes.
const (
	FullRefresh SyncMode = "full_refresh"
	Incremental SyncMode = "incremental"
)

// DestinationSyncMode is how the destination writes a stream.
type DestinationSyncMode string

// Destination sync modes known to the protocol.
const (
	Append      DestinationSyncMode = "append"
	Overwrite   DestinationSyncMode = "overwrite"
	AppendDedup DestinationSyncMode = "append_dedup"
	Update      DestinationSyncMode = "update"
	SoftDelete  DestinationSyncMode = "soft_delete"
)

// Catalog is the CATALOG payload.
type Catalog struct {
	Streams []Stream `json:"streams"`
}

// Stream is an AirbyteStream.
type Stream struct {
	Name                    string          `json:"name"`
	JSONSchema              json.RawMessage `json:"json_schema"`
	SupportedSyncModes      []SyncMode      `json:"supported_sync_modes"`
	SourceDefinedCursor     bool            `json:"source_defined_cursor,omitempty"`
	DefaultCursorField      []string        `json:"default_cursor_field,omitempty"`
	SourceDefinedPrimaryKey [][]string      `json:"source_defined_primary_key,omitempty"`
	Namespace               string          `json:"namespace,omitempty"`
	IsResumable             bool            `json:"is_resumable,omitempty"`
}

// ConfiguredCatalog is the catalog `read` receives.
type ConfiguredCatalog struct {
	Streams []ConfiguredStream `json:"streams"`
}

// ConfiguredStream is one stream the user chose to sync.
type ConfiguredStream struct {
	Stream              Stream              `json:"stream"`
	SyncMode            SyncMode            `json:"sync_mode"`
	DestinationSyncMode DestinationSyncMode `json:"destination_sync_mode"`
	CursorField         []string            `json:"cursor_field,omitempty"`
	PrimaryKey          [][]string          `json:"primary_key,omitempty"`
}

// Record is the RECORD payload. Data holds the record's bytes exactly as the API sent them.
type Record struct {
	Stream    string          `json:"stream"`
	Namespace string          `json:"namespace,omitempty"`
	Data      json.RawMessage `json:"data"`
	EmittedAt int64           `json:"emitted_at"`
}

// StateType is an AirbyteStateMessage type.
type StateType string

// State types. Sources here emit only STREAM; the others are read from input state files.
const (
	StateStream StateType = "STREAM"
	StateGlobal StateType = "GLOBAL"
	StateLegacy StateType = "LEGACY"
)

// StreamDescriptor names a stream.
type StreamDescriptor struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// StreamState is one stream's state blob.
type StreamState struct {
	StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
	StreamState      json.RawMessage  `json:"stream_state,omitempty"`
}

// GlobalState is the GLOBAL state payload (read only).
type GlobalState struct {
	SharedState  json.RawMessage `json:"shared_state,omitempty"`
	StreamStates []StreamState   `json:"stream_states"`
}

// StateStats carries record counts. RecordCount is a JSON number, as the protocol asks.
type StateStats struct {
	RecordCount float64 `json:"recordCount"`
}

// MarshalJSON writes the count with a decimal point (57.0), as the protocol's schema asks of
// recordCount "for proper serialization" and as Airbyte's Python CDK writes it.
func (s StateStats) MarshalJSON() ([]byte, error) {
	n := strconv.AppendFloat([]byte(`{"recordCount":`), s.RecordCount, 'f', -1, 64)
	if bytes.IndexByte(n[len(`{"recordCount":`):], '.') < 0 { // 'f' never writes an exponent
		n = append(n, ".0"...)
	}
	return append(n, '}'), nil
}

// StateMessage is the STATE payload.
type StateMessage struct {
	Type        StateType       `json:"type,omitempty"`
	Stream      *StreamState    `json:"stream,omitempty"`
	Global      *GlobalState    `json:"global,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	SourceStats *StateStats     `json:"sourceStats,omitempty"`
}

// TraceType is an AirbyteTraceMessage type.
type TraceType string

// Trace types a source emits.
const (
	TraceError        TraceType = "ERROR"
	TraceEstimate     TraceType = "ESTIMATE"
	TraceStreamStatus TraceType = "STREAM_STATUS"
)

// FailureType classifies an ERROR trace for the platform.
type FailureType string

// Failure types.
const (
	SystemError    FailureType = "system_error"
	ConfigError    FailureType = "config_error"
	TransientError FailureType = "transient_error"
)

// Trace is the TRACE payload.
type Trace struct {
	Type         TraceType     `json:"type"`
	EmittedAt    int64         `json:"emitted_at"`
	Error        *ErrorTrace   `json:"error,omitempty"`
	Estimate     *Estimate     `json:"estimate,omitempty"`
	StreamStatus *StreamStatus `json:"stream_status,omitempty"`
}

// ErrorTrace is an ERROR trace: Message is for the user, InternalMessage for support.
type ErrorTrace struct {
	Message          string            `json:"message"`
	InternalMessage  string            `json:"internal_message,omitempty"`
	StackTrace       string            `json:"stack_trace,omitempty"`
	FailureType      FailureType       `json:"failure_type,omitempty"`
	StreamDescriptor *StreamDescriptor `json:"stream_descriptor,omitempty"`
}

// EstimateType says whether an estimate covers one stream or the sync.
type EstimateType string

// Estimate types.
const (
	EstimateStream EstimateType = "STREAM"
	EstimateSync   EstimateType = "SYNC"
)

// Estimate is an ESTIMATE trace payload.
type Estimate struct {
	Name         string       `json:"name"`
	Type         EstimateType `json:"type"`
	Namespace    string       `json:"namespace,omitempty"`
	RowEstimate  int64        `json:"row_estimate,omitempty"`
	ByteEstimate int64        `json:"byte_estimate,omitempty"`
}

// StreamStatusValue is a stream's lifecycle status.
type StreamStatusValue string

// Stream lifecycle statuses.
const (
	Started    StreamStatusValue = "STARTED"
	Running    StreamStatusValue = "RUNNING"
	Complete   StreamStatusValue = "COMPLETE"
	Incomplete StreamStatusValue = "INCOMPLETE"
)

// StreamStatus is a STREAM_STATUS trace payload.
type StreamStatus struct {
	StreamDescriptor StreamDescriptor     `json:"stream_descriptor"`
	Status           StreamStatusValue    `json:"status"`
	Reasons          []StreamStatusReason `json:"reasons,omitempty"`
}

// StreamStatusReason explains a status; the protocol defines only RATE_LIMITED.
type StreamStatusReason struct {
	Type        string       `json:"type"`
	RateLimited *RateLimited `json:"rate_limited,omitempty"`
}

// RateLimited says when a rate-limit quota resets (epoch ms).
type RateLimited struct {
	QuotaReset int64 `json:"quota_reset,omitempty"`
}

// Control is the CONTROL payload.
type Control struct {
	Type            string           `json:"type"`
	EmittedAt       int64            `json:"emitted_at"`
	ConnectorConfig *ConnectorConfig `json:"connectorConfig,omitempty"`
}

// ControlConnectorConfig is the only control type a source sends.
const ControlConnectorConfig = "CONNECTOR_CONFIG"

// ConnectorConfig carries a whole updated config for the platform to store.
type ConnectorConfig struct {
	Config json.RawMessage `json:"config"`
}
