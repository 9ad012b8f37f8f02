package seed

import "strings"

// Small pt-BR vocabularies for synthetic people and places. Names are common
// ones, combined at random: no combination stands for a real person.

var femaleNames = []string{
	"Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda",
	"Patrícia", "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia",
	"Júlia", "Luciana", "Vanessa", "Mariana", "Gabriela", "Vera", "Cláudia", "Beatriz",
	"Larissa", "Débora", "Tatiane", "Helena", "Alice", "Laura", "Lívia", "Sônia",
	"Rosângela", "Cecília", "Isabela", "Natália", "Priscila", "Renata", "Simone", "Valéria",
}

var maleNames = []string{
	"José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas",
	"Luiz", "Marcos", "Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno",
	"Eduardo", "Felipe", "Raimundo", "Rodrigo", "Sérgio", "Fábio", "André", "Fernando",
	"Gustavo", "Thiago", "Vinícius", "Otávio", "Renato", "Márcio", "Rogério", "Caio",
	"Heitor", "Davi", "Miguel", "Arthur", "Benedito", "Sebastião", "Jônatas", "Átila",
}

var surnames = []string{
	"Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
	"Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes",
	"Soares", "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade",
	"Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos",
	"Gonçalves", "Santana", "Teixeira", "Araújo", "Conceição", "Simões", "Brandão", "Magalhães",
}

// connectives go between given names and surnames ("Maria da Silva").
var connectives = []string{"da", "de", "dos", "das"}

type city struct {
	name, uf, ddd string
	cepBase       int // first five CEP digits of the city's range
}

var cities = []city{
	{"São Paulo", "SP", "11", 1000}, {"Campinas", "SP", "19", 13000},
	{"Santos", "SP", "13", 11000}, {"Ribeirão Preto", "SP", "16", 14000},
	{"Rio de Janeiro", "RJ", "21", 20000}, {"Niterói", "RJ", "21", 24000},
	{"Belo Horizonte", "MG", "31", 30000}, {"Uberlândia", "MG", "34", 38400},
	{"Curitiba", "PR", "41", 80000}, {"Londrina", "PR", "43", 86000},
	{"Porto Alegre", "RS", "51", 90000}, {"Florianópolis", "SC", "48", 88000},
	{"Salvador", "BA", "71", 40000}, {"Recife", "PE", "81", 50000},
	{"Fortaleza", "CE", "85", 60000}, {"Natal", "RN", "84", 59000},
	{"Goiânia", "GO", "62", 74000}, {"Brasília", "DF", "61", 70000},
	{"Vitória", "ES", "27", 29000}, {"Belém", "PA", "91", 66000},
	{"Manaus", "AM", "92", 69000}, {"São Luís", "MA", "98", 65000},
}

var streetKinds = []string{"Rua", "Rua", "Rua", "Avenida", "Travessa", "Alameda"}

var streetNames = []string{
	"das Flores", "São Bento", "XV de Novembro", "Sete de Setembro", "Tiradentes",
	"Dom Pedro II", "das Palmeiras", "Marechal Deodoro", "Santos Dumont", "Rui Barbosa",
	"Getúlio Vargas", "José Bonifácio", "das Acácias", "dos Ipês", "Castro Alves",
	"Machado de Assis", "Barão do Rio Branco", "Benjamin Constant", "Duque de Caxias",
	"Padre Anchieta", "Coronel Fonseca", "Voluntários da Pátria", "do Comércio", "da Paz",
}

var neighbourhoods = []string{
	"Centro", "Jardim América", "Vila Nova", "Boa Vista", "Santa Cecília", "Bela Vista",
	"Jardim Europa", "Vila Mariana", "Liberdade", "Santo Antônio", "São José", "Industrial",
	"Jardim das Palmeiras", "Parque das Nações", "Cidade Nova", "Alto da Glória",
}

var complements = []string{"", "", "", "Apto 12", "Apto 304", "Casa 2", "Bloco B Apto 71", "Fundos", "Sala 5"}

var professions = []string{
	"Analista de sistemas", "Professora", "Enfermeiro", "Engenheira civil", "Advogado",
	"Contadora", "Vendedor", "Médica", "Motorista", "Técnico de enfermagem", "Administradora",
	"Servidor público", "Autônomo", "Empresária", "Arquiteta", "Farmacêutico", "Eletricista",
	"Auxiliar administrativo", "Designer", "Cozinheiro",
}

// pepProfessions are public functions that make someone a politically
// exposed person (Res. COAF 40/2021); only the label matters here.
var pepProfessions = []string{"Secretário municipal", "Deputada estadual", "Vereador", "Diretora de autarquia"}

var maritalStatuses = []string{"solteiro", "casado", "divorciado", "viuvo", "uniao_estavel"}

var rgIssuers = []string{"SSP", "DETRAN", "IFP", "PC", "SDS"}

var banks = []string{"Caixa Econômica Federal", "Banco do Brasil", "Itaú Unibanco", "Bradesco", "Santander"}

// correspondents are the banking correspondents that receive buyers' data
// for financing (sharing recipients in the data map).
var correspondents = []string{
	"Correspondente Alfa Crédito Imobiliário Ltda",
	"Beta Assessoria de Financiamentos Ltda",
}

var devPrefixes = []string{"Residencial", "Edifício", "Condomínio", "Parque", "Torres"}

var devNames = []string{
	"Jardim das Acácias", "Vista do Parque", "Bosque dos Ipês", "Solar da Serra", "Reserva Atlântica",
	"Horizonte Azul", "Vila Real", "Alto do Mirante", "Recanto das Águas", "Portal do Sol",
	"Villaggio Toscana", "Praça das Artes", "Morada dos Pássaros", "Jardim Botânico", "Costa Verde",
}

var agencyNames = []string{
	"Lar Ideal", "Chave de Ouro", "Nova Morada", "Casa Forte", "Porto Seguro Imóveis",
	"Bem Viver", "Teto Certo", "Prime Negócios", "Rede Lar", "Morar Bem",
}

var leadOrigins = []string{"site", "portal_imobiliario", "indicacao", "stand", "whatsapp", "facebook", "instagram", "google_ads"}

var channels = []string{"telefone", "whatsapp", "email", "visita", "chat"}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Mobile Safari/537.36",
}

// interactionNotes are the broker's free-text notes; %s is the lead's first
// name. None holds a document number: only the cpf_em_texto_livre scenario does.
var interactionNotes = []string{
	"Cliente pediu simulação de financiamento para unidade de 2 quartos.",
	"%s visitou o decorado no sábado com a família.",
	"Enviada tabela de preços pelo WhatsApp.",
	"Retornar ligação na próxima semana; %s está aguardando a liberação do FGTS.",
	"Interesse em unidade de frente, andar alto.",
	"%s perguntou sobre o prazo de entrega e as condições de entrada.",
	"Sem resposta às últimas tentativas de contato.",
	"Agendada visita ao stand de vendas.",
	"%s prefere contato por e-mail após as 18h.",
	"Encaminhada proposta com desconto à vista.",
}

// emailDomains are RFC 2606 / RFC 6761 reserved domains only.
var emailDomains = []string{"example.com", "example.org", "example.net", "email.invalid", "correio.invalid"}

// asciiFold maps the accented letters of the lists above to plain ASCII, the
// way CRMs and e-mail local parts often spell names.
var asciiFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "é", "e", "ê", "e", "í", "i", "ó", "o", "ô", "o",
	"õ", "o", "ú", "u", "ü", "u", "ç", "c",
	"Á", "A", "À", "A", "Â", "A", "Ã", "A", "É", "E", "Ê", "E", "Í", "I", "Ó", "O", "Ô", "O",
	"Õ", "O", "Ú", "U", "Ü", "U", "Ç", "C",
)
