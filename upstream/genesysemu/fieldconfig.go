package genesysemu

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// fieldConfigJSON is the FieldConfig model.
type fieldConfigJSON struct {
	ID            string        `json:"id"`
	Name          string        `json:"name"`
	EntityType    string        `json:"entityType"`
	State         string        `json:"state"`
	Sections      []sectionJSON `json:"sections"`
	Version       string        `json:"version"`
	SchemaVersion string        `json:"schemaVersion"`
	SelfURI       string        `json:"selfUri"`
}

// sectionJSON is the Section model.
type sectionJSON struct {
	FieldList       []fieldListJSON `json:"fieldList"`
	InstructionText string          `json:"instructionText"`
	Key             string          `json:"key"`
	State           string          `json:"state"`
}

// fieldListJSON is the FieldList model.
type fieldListJSON struct {
	CustomLabels    bool           `json:"customLabels"`
	InstructionText string         `json:"instructionText"`
	Key             string         `json:"key"`
	LabelKeys       []string       `json:"labelKeys"`
	Params          map[string]any `json:"params,omitempty"`
	Repeatable      bool           `json:"repeatable"`
	State           string         `json:"state"`
	Type            string         `json:"type"`
	Required        bool           `json:"required"`
	GDPR            bool           `json:"gdpr"`
}

// fieldSpec is the short form the field configs are written in.
type fieldSpec struct {
	key, typ             string
	required, repeatable bool
}

// sectionSpec is a section key and its fields.
type sectionSpec struct {
	key    string
	fields []fieldSpec
}

// configSpecs are the sections of each entity type.
var configSpecs = []struct {
	entity   string
	sections []sectionSpec
}{
	{"group", []sectionSpec{
		{"generalInfo", []fieldSpec{{"name", "text", true, false}, {"description", "longtext", false, false},
			{"type", "enum", true, false}, {"visibility", "enum", true, false}, {"rulesVisible", "boolean", true, false}}},
		{"contactInfo", []fieldSpec{{"groupPhone", "phone", false, true}, {"groupRing", "phone", false, true}}},
		{"images", []fieldSpec{{"profileImage", "image", false, false}}},
	}},
	{"person", []sectionSpec{
		{"generalInfo", []fieldSpec{{"name", "text", true, false}, {"title", "text", false, false},
			{"department", "text", false, false}, {"manager", "person", false, false}}},
		{"contactInfo", []fieldSpec{{"email_work", "email", true, false}, {"phone_work", "phone", false, true},
			{"phone_mobile", "phone", false, true}}},
		{"hr", []fieldSpec{{"employeeId", "text", false, false}, {"dateHire", "date", false, false}}},
	}},
	{"org", []sectionSpec{
		{"generalInfo", []fieldSpec{{"name", "text", true, false}, {"domain", "text", false, false}}},
		{"contactInfo", []fieldSpec{{"phone_main", "phone", false, true}, {"address_main", "address", false, false}}},
	}},
	{"externalContact", []sectionSpec{
		{"generalInfo", []fieldSpec{{"firstName", "text", true, false}, {"lastName", "text", true, false},
			{"title", "text", false, false}}},
		{"contactInfo", []fieldSpec{{"workEmail", "email", false, false}, {"workPhone", "phone", false, false}}},
	}},
}

// fieldConfigs holds the JSON answer per entity type.
var fieldConfigs = buildFieldConfigs()

// groupFieldKeys are the keys GET /groups/{id}/profile?fields= accepts.
var groupFieldKeys = fieldKeys("group")

func buildFieldConfigs() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(configSpecs))
	for k, spec := range configSpecs {
		entity := spec.entity
		fc := fieldConfigJSON{ID: fmt.Sprintf("f1e1d000-0000-4000-8000-%012x", k), Name: entity + " field config",
			EntityType: entity, State: "active", Version: "3", SchemaVersion: "1.0",
			SelfURI: "/api/v2/fieldconfig?type=" + entity}
		for _, sec := range spec.sections {
			s := sectionJSON{Key: sec.key, State: "active", InstructionText: "Enter the " + sec.key}
			for _, f := range sec.fields {
				s.FieldList = append(s.FieldList, fieldListJSON{Key: f.key, Type: f.typ, Required: f.required,
					Repeatable: f.repeatable, State: "active", LabelKeys: []string{sec.key + "." + f.key},
					InstructionText: "", GDPR: f.typ == "email" || f.typ == "phone"})
			}
			fc.Sections = append(fc.Sections, s)
		}
		out[entity], _ = json.Marshal(fc)
	}
	return out
}

func fieldKeys(entity string) map[string]bool {
	keys := map[string]bool{}
	for _, spec := range configSpecs {
		if spec.entity != entity {
			continue
		}
		for _, sec := range spec.sections {
			for _, f := range sec.fields {
				keys[f.key] = true
			}
		}
	}
	return keys
}

// getFieldConfig serves GET /api/v2/fieldconfig?type=. externalContact is
// still accepted, as the 2018 swagger listed it; the audit (section 2 item
// 9) notes "current docs list person, group and org only".
func (s *Server) getFieldConfig(r *http.Request) (int, any, error) {
	t := r.URL.Query().Get("type")
	fc, ok := fieldConfigs[t]
	if !ok {
		return 0, nil, newError(http.StatusBadRequest, "bad.entity.type",
			"type must be one of person, group, org or externalContact")
	}
	return http.StatusOK, fc, nil
}
