package datamap

// givenNames are common given names in Brazil and in English-speaking
// countries, folded (lower case, no accents). Discovery takes a column whose
// values mostly start with one of them for a column of people's names; it
// is a hint for a draft, not a census.
var givenNames = func() map[string]bool {
	names := []string{
		// Brazil
		"maria", "ana", "francisca", "antonia", "adriana", "juliana", "marcia", "fernanda", "patricia",
		"aline", "sandra", "camila", "amanda", "bruna", "jessica", "leticia", "julia", "luciana", "vanessa",
		"mariana", "gabriela", "vera", "claudia", "beatriz", "larissa", "debora", "tatiane", "helena",
		"alice", "laura", "livia", "sonia", "rosangela", "cecilia", "isabela", "natalia", "priscila",
		"renata", "simone", "valeria", "luana", "carla", "raquel", "rita", "lucia", "teresa", "regina",
		"jose", "joao", "antonio", "francisco", "carlos", "paulo", "pedro", "lucas", "luiz", "marcos",
		"luis", "gabriel", "rafael", "daniel", "marcelo", "bruno", "eduardo", "felipe", "raimundo",
		"rodrigo", "sergio", "fabio", "andre", "fernando", "gustavo", "thiago", "tiago", "vinicius",
		"otavio", "renato", "marcio", "rogerio", "caio", "heitor", "davi", "miguel", "arthur", "benedito",
		"sebastiao", "jonatas", "atila", "mateus", "matheus", "leonardo", "ricardo", "roberto", "jorge",
		"manoel", "manuel", "alexandre", "diego", "leandro", "igor", "henrique", "enzo", "bernardo",
		// English
		"john", "mary", "james", "robert", "michael", "william", "david", "richard", "joseph", "thomas",
		"charles", "christopher", "matthew", "anthony", "mark", "steven", "paul", "andrew", "joshua",
		"kevin", "brian", "george", "edward", "peter", "linda", "elizabeth", "barbara", "susan", "sarah",
		"karen", "nancy", "lisa", "betty", "margaret", "sandra", "ashley", "emily", "donna", "michelle",
		"emma", "olivia", "sophia", "isabella", "noah", "liam", "oliver", "jack", "harry", "grace", "anna",
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}()
