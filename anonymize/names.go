package anonymize

import (
	"strings"
	"unicode"
)

// Fake values are drawn from these lists: common Brazilian given names and
// surnames, and street names built from trees, birds and historical figures.
// With 120 given names, 120 surnames and an optional second surname, there
// are about 1.7 million full names, so distinct titulares rarely share one.
var givenNames = [...]string{
	"Ana", "Maria", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Patrícia", "Aline",
	"Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia", "Luciana", "Vanessa", "Mariana",
	"Gabriela", "Vera", "Vitória", "Larissa", "Cláudia", "Beatriz", "Luana", "Rita", "Sônia", "Renata",
	"Eliane", "Josefa", "Simone", "Natália", "Cristiane", "Carla", "Débora", "Rosângela", "Jaqueline", "Rosa",
	"Daniela", "Aparecida", "Marlene", "Terezinha", "Raimunda", "Andreia", "Fabiana", "Lúcia", "Raquel", "Ângela",
	"Rafaela", "Joana", "Luzia", "Elaine", "Daniele", "Regina", "Daiane", "Helena", "Alice", "Laura",
	"José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos",
	"Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo", "Rodrigo",
	"Manoel", "Mateus", "André", "Fernando", "Fábio", "Leonardo", "Gustavo", "Guilherme", "Leandro", "Tiago",
	"Anderson", "Ricardo", "Márcio", "Jorge", "Sebastião", "Alexandre", "Roberto", "Edson", "Diego", "Vitor",
	"Sérgio", "Cláudio", "Matheus", "Thiago", "Geraldo", "Adriano", "Luciano", "Júlio", "Renato", "Alex",
	"Vinícius", "Rogério", "Samuel", "Ronaldo", "Mário", "Flávio", "Douglas", "Igor", "Davi", "Heitor",
}

var surnames = [...]string{
	"Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
	"Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa",
	"Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas",
	"Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira", "Araújo", "Correia", "Pinto", "Cavalcanti", "Moura",
	"Monteiro", "Batista", "Campos", "Castro", "Miranda", "Rezende", "Farias", "Cunha", "Pires", "Borges",
	"Azevedo", "Cruz", "Medeiros", "Mello", "Reis", "Duarte", "Xavier", "Bezerra", "Brito", "Coelho",
	"Moraes", "Peixoto", "Sales", "Siqueira", "Tavares", "Queiroz", "Fonseca", "Guimarães", "Macedo", "Sampaio",
	"Aguiar", "Barros", "Bastos", "Bittencourt", "Brandão", "Caldeira", "Camargo", "Cordeiro", "Dantas", "Esteves",
	"Figueiredo", "Franco", "Garcia", "Godoy", "Leite", "Leal", "Lacerda", "Magalhães", "Maia", "Matos",
	"Meireles", "Morais", "Neves", "Nogueira", "Paiva", "Pacheco", "Prado", "Quintana", "Rangel", "Sá",
	"Serra", "Toledo", "Valente", "Vasconcelos", "Viana", "Amaral", "Antunes", "Bueno", "Coutinho", "Cabral",
	"Damasceno", "Falcão", "Furtado", "Holanda", "Jardim", "Lins", "Louro", "Mattos", "Pontes", "Werneck",
}

var streetTypes = [...]string{"Rua", "Rua", "Rua", "Avenida", "Travessa", "Alameda", "Praça", "Estrada"}

var streetNames = [...]string{
	"das Acácias", "dos Ipês", "das Palmeiras", "das Orquídeas", "dos Jacarandás", "das Magnólias",
	"dos Cedros", "das Figueiras", "das Paineiras", "dos Pinheiros", "das Hortênsias", "dos Girassóis",
	"dos Sabiás", "dos Bem-te-vis", "das Andorinhas", "dos Colibris", "dos Tucanos", "das Araras",
	"Sete de Setembro", "Quinze de Novembro", "Tiradentes", "Rui Barbosa", "Castro Alves", "Machado de Assis",
	"Santos Dumont", "Anita Garibaldi", "Princesa Isabel", "José Bonifácio", "Duque de Caxias", "Marechal Deodoro",
	"Carlos Gomes", "Oswaldo Cruz", "Cecília Meireles", "Monteiro Lobato", "Vinícius de Moraes", "Clarice Lispector",
	"Projetada A", "Projetada B", "do Comércio", "da Liberdade", "da Esperança", "do Sol",
}

// foldName reduces a name to the form fake.name keys on: lower case, no
// accents, single spaces. "JOSÉ  Antônio" and "jose antonio" are one name.
func foldName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(foldRune(unicode.ToLower(r)))
	}
	return b.String()
}

// foldRune drops the diacritics Portuguese uses.
func foldRune(r rune) rune {
	switch r {
	case 'á', 'à', 'â', 'ã', 'ä':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'õ', 'ö':
		return 'o'
	case 'ú', 'ù', 'û', 'ü':
		return 'u'
	case 'ç':
		return 'c'
	case 'ñ':
		return 'n'
	}
	return r
}

// slug makes a name safe for an e-mail local part: folded, letters only.
func slug(s string) string {
	var b strings.Builder
	for _, r := range foldName(s) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
