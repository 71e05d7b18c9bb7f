package genesysemu

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"slices"
	"time"
)

// maxConditionDepth bounds the nesting of childConditions.
const maxConditionDepth = 8

var (
	operations  = []string{"And", "Or", "Not"}
	comparators = []string{"EqualTo", "NotEqualTo", "LessThan", "GreaterThan",
		"GreaterThanOrEqualTo", "LessThanOrEqualTo"}
)

// dynamicQuery is the DynamicGroupQuery model.
type dynamicQuery struct {
	SkillConditions []skillCondition `json:"skillConditions"`
}

// skillCondition is a DynamicGroupSkillCondition.
type skillCondition struct {
	RoutingSkillConditions  []routingSkillCondition  `json:"routingSkillConditions"`
	LanguageSkillConditions []languageSkillCondition `json:"languageSkillConditions"`
	Operation               string                   `json:"operation"`
}

// skillTest is what routing and language skill conditions share.
type skillTest struct {
	Comparator      string           `json:"comparator"`
	Proficiency     *int             `json:"proficiency"`
	ChildConditions []skillCondition `json:"childConditions,omitempty"`
}

type routingSkillCondition struct {
	RoutingSkill string `json:"routingSkill"`
	skillTest
}

type languageSkillCondition struct {
	LanguageSkill string `json:"languageSkill"`
	skillTest
}

// dynamicDefinition is the DynamicGroupDefinition model.
type dynamicDefinition struct {
	Group        entityRef    `json:"group"`
	DateModified string       `json:"dateModified"`
	Query        dynamicQuery `json:"query"`
	SelfURI      string       `json:"selfUri"`
}

// seedDynamic is the definition of demodata.DynamicGroup (its group field is
// filled when it is served).
func seedDynamic(at time.Time) *dynamicDefinition {
	three, five := 3, 5
	return &dynamicDefinition{DateModified: formatDate(at), Query: dynamicQuery{SkillConditions: []skillCondition{{
		RoutingSkillConditions: []routingSkillCondition{{RoutingSkill: "Billing",
			skillTest: skillTest{Comparator: "GreaterThanOrEqualTo", Proficiency: &three}}},
		LanguageSkillConditions: []languageSkillCondition{{LanguageSkill: "English",
			skillTest: skillTest{Comparator: "EqualTo", Proficiency: &five}}},
		Operation: "And",
	}}}}
}

// validate checks the query and replaces absent condition lists by empty
// ones.
func (q *dynamicQuery) validate() error {
	if q.SkillConditions == nil {
		return invalidValue("skillConditions is required")
	}
	return validateConditions(q.SkillConditions, 0)
}

func validateConditions(cs []skillCondition, depth int) error {
	if depth > maxConditionDepth {
		return invalidValue("conditions are nested more than %d levels", maxConditionDepth)
	}
	for k := range cs {
		c := &cs[k]
		if !slices.Contains(operations, c.Operation) {
			return invalidValue("operation must be one of %v", operations)
		}
		c.RoutingSkillConditions = nonNil(c.RoutingSkillConditions)
		c.LanguageSkillConditions = nonNil(c.LanguageSkillConditions)
		for _, rc := range c.RoutingSkillConditions {
			if err := rc.validate("routingSkill", rc.RoutingSkill, depth); err != nil {
				return err
			}
		}
		for _, lc := range c.LanguageSkillConditions {
			if err := lc.validate("languageSkill", lc.LanguageSkill, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (t skillTest) validate(field, skill string, depth int) error {
	switch {
	case skill == "":
		return invalidValue("%s is required", field)
	case !slices.Contains(comparators, t.Comparator):
		return invalidValue("comparator must be one of %v", comparators)
	case t.Proficiency == nil || *t.Proficiency < 0 || *t.Proficiency > 5:
		return invalidValue("proficiency is required, from 0 to 5")
	}
	return validateConditions(t.ChildConditions, depth+1)
}

// decodeQuery reads and validates a DynamicGroupQuery body.
func decodeQuery(r *http.Request) (dynamicQuery, error) {
	var q dynamicQuery
	if err := decodeBody(r, &q); err != nil {
		return q, err
	}
	return q, q.validate()
}

// getDynamic serves GET /api/v2/groups/{groupId}/dynamicsettings; 404 when
// the group has no definition.
func (s *Server) getDynamic(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	var def dynamicDefinition
	err = s.store.read(id, func(g *group) error {
		if g.dynamic == nil {
			return notFound("group %s has no dynamic definition", id)
		}
		def = *g.dynamic
		def.Group = entityRef{ID: g.id, SelfURI: groupSelfURI(g.id)}
		def.SelfURI = groupSelfURI(g.id) + "/dynamicsettings"
		return nil
	})
	return http.StatusOK, def, err
}

// putDynamic serves PUT /api/v2/groups/{groupId}/dynamicsettings: creates
// or replaces the definition, 204.
func (s *Server) putDynamic(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	q, err := decodeQuery(r)
	if err != nil {
		return 0, nil, err
	}
	err = s.store.write(id, func(g *group) error {
		g.dynamic = &dynamicDefinition{Query: q, DateModified: formatDate(s.store.advance())}
		return nil
	})
	return http.StatusNoContent, nil, err
}

// deleteDynamic serves DELETE /api/v2/groups/{groupId}/dynamicsettings:
// 204, or 404 when the group has no definition.
func (s *Server) deleteDynamic(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	err = s.store.write(id, func(g *group) error {
		if g.dynamic == nil {
			return notFound("group %s has no dynamic definition", id)
		}
		g.dynamic = nil
		return nil
	})
	return http.StatusNoContent, nil, err
}

// previewDynamic serves POST /api/v2/groups/dynamicsettings/preview: the
// userCount is a stable function of the query, from 0 to the number of
// users.
func (s *Server) previewDynamic(r *http.Request) (int, any, error) {
	q, err := decodeQuery(r)
	if err != nil {
		return 0, nil, err
	}
	b, _ := json.Marshal(q)
	h := fnv.New32a()
	_, _ = h.Write(b)
	return http.StatusOK, map[string]int{"userCount": int(h.Sum32() % uint32(len(s.store.users)+1))}, nil
}
