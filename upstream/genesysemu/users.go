package genesysemu

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/groupdir/gateway/upstream/demodata"
)

// userJSON is the User model: the fields a plain user carries, plus the ones
// a few known expand values add.
type userJSON struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	Division           entityRef  `json:"division"`
	Chat               chat       `json:"chat"`
	Department         string     `json:"department"`
	Email              string     `json:"email"`
	PrimaryContactInfo []contact  `json:"primaryContactInfo"`
	Addresses          []contact  `json:"addresses"`
	State              string     `json:"state"`
	Title              string     `json:"title"`
	Username           string     `json:"username"`
	Images             []image    `json:"images"`
	Version            int        `json:"version"`
	AcdAutoAnswer      bool       `json:"acdAutoAnswer"`
	SelfURI            string     `json:"selfUri"`
	Presence           *presence  `json:"presence,omitempty"`
	RoutingStatus      *routing   `json:"routingStatus,omitempty"`
	OutOfOffice        *ooo       `json:"outOfOffice,omitempty"`
	Certifications     []string   `json:"certifications,omitempty"`
	EmployerInfo       *employer  `json:"employerInfo,omitempty"`
	Biography          *biography `json:"biography,omitempty"`
	LanguagePreference string     `json:"languagePreference,omitempty"`
	DateLastLogin      string     `json:"dateLastLogin,omitempty"`
	DateWelcomeSent    string     `json:"dateWelcomeSent,omitempty"`
}

type presence struct {
	Source             string             `json:"source"`
	PresenceDefinition presenceDefinition `json:"presenceDefinition"`
	ModifiedDate       string             `json:"modifiedDate"`
}

// presenceDefinition is the SDK's Presencedefinition: {id, systemPresence,
// selfUri} (platform-client-sdk-go presencedefinition.go), not a named ref.
type presenceDefinition struct {
	ID             string `json:"id"`
	SystemPresence string `json:"systemPresence"`
	SelfURI        string `json:"selfUri"`
}

type routing struct {
	Status    string `json:"status"`
	StartTime string `json:"startTime"`
}

type ooo struct {
	Active bool `json:"active"`
}

type employer struct {
	OfficialName string `json:"officialName"`
	EmployeeID   string `json:"employeeId"`
	EmployeeType string `json:"employeeType"`
	DateHire     string `json:"dateHire"`
}

type biography struct {
	Biography string   `json:"biography"`
	Interests []string `json:"interests"`
}

// user is one seeded user: its plain JSON is computed once.
type user struct {
	id, name string
	plain    json.RawMessage
}

var (
	departments = []string{"Customer Care", "Sales", "Finance", "Operations", "IT"}
	titles      = []string{"Agent", "Senior Agent", "Team Lead", "Supervisor"}
	presences   = []string{"Available", "Busy", "Away", "Offline"}
	statuses    = []string{"IDLE", "INTERACTING", "NOT_RESPONDING", "OFF_QUEUE"}
	homeDiv     = entityRef{ID: "9d3c0000-0000-4000-8000-000000000001", Name: "Home",
		SelfURI: "/api/v2/authorization/divisions/9d3c0000-0000-4000-8000-000000000001"}
)

// expanders are the expand values the emulator knows; others are ignored.
var expanders = map[string]func(u *userJSON, i int){
	"presence": func(u *userJSON, i int) {
		name := presences[i%len(presences)]
		id := fmt.Sprintf("a5e00000-0000-4000-8000-%012x", i%len(presences))
		u.Presence = &presence{Source: "PURECLOUD", ModifiedDate: fixedDate(i),
			PresenceDefinition: presenceDefinition{ID: id, SystemPresence: name, SelfURI: "/api/v2/presencedefinitions/" + id}}
	},
	"routingStatus": func(u *userJSON, i int) {
		u.RoutingStatus = &routing{Status: statuses[i%len(statuses)], StartTime: fixedDate(i)}
	},
	"outOfOffice": func(u *userJSON, i int) { u.OutOfOffice = &ooo{Active: i%17 == 0} },
	"certifications": func(u *userJSON, i int) {
		u.Certifications = []string{fmt.Sprintf("Certified Level %d", 1+i%3)}
	},
	"employerInfo": func(u *userJSON, i int) {
		u.EmployerInfo = &employer{OfficialName: demodata.UserName(i), EmployeeID: fmt.Sprintf("E%05d", i),
			EmployeeType: "Full-time", DateHire: "2020-03-01"}
	},
	"biography": func(u *userJSON, i int) {
		u.Biography = &biography{Biography: "Demo user " + demodata.UserName(i), Interests: []string{"chess"}}
	},
	"languagePreference": func(u *userJSON, _ int) { u.LanguagePreference = "en-us" },
	"dateLastLogin":      func(u *userJSON, i int) { u.DateLastLogin = fixedDate(i) },
	"dateWelcomeSent":    func(u *userJSON, _ int) { u.DateWelcomeSent = fixedDate(0) },
}

func fixedDate(i int) string { return formatDate(baseTime.Add(-time.Duration(i%240) * time.Hour)) }

// newUser builds demo user i.
func newUser(i int) user {
	u := plainUser(i)
	b, _ := json.Marshal(u)
	return user{id: u.ID, name: u.Name, plain: b}
}

func plainUser(i int) userJSON {
	id := demodata.UserID(i)
	email := demodata.UserEmail(i)
	return userJSON{
		ID: id, Name: demodata.UserName(i), Division: homeDiv, Chat: chat{JabberID: demodata.JabberID(i)},
		Department: departments[i%len(departments)], Email: email,
		PrimaryContactInfo: []contact{{Address: email, MediaType: "EMAIL", Type: "PRIMARY"}},
		Addresses: []contact{{Address: fmt.Sprintf("+1317555%04d", i%10000),
			Display: fmt.Sprintf("+1 317-555-%04d", i%10000), MediaType: "PHONE", Type: "WORK"}},
		State: "active", Title: titles[i%len(titles)], Username: email,
		Images:  []image{{Resolution: "x96", ImageURI: fmt.Sprintf("https://images.example.com/users/%d/x96.png", i)}},
		Version: 1 + i%4, SelfURI: userSelfURI(id),
	}
}

// userEntity returns the JSON of user i with the known expands applied.
func (s *store) userEntity(i int, expand []string) json.RawMessage {
	var fns []func(*userJSON, int)
	for _, e := range expand {
		if f, ok := expanders[e]; ok {
			fns = append(fns, f)
		}
	}
	if len(fns) == 0 {
		return s.users[i].plain
	}
	u := plainUser(i)
	for _, f := range fns {
		f(&u, i)
	}
	b, _ := json.Marshal(u)
	return b
}

func userSelfURI(id string) string { return "/api/v2/users/" + id }
