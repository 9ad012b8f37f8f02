-- Demo real-estate CRM schema (LGPD.md "Demo tenant"): the fourteen tables a
-- Brazilian incorporadora's CRM typically holds, with the snapshot copies of
-- personal data such CRMs really keep (reservas.cliente_*, leads.*), so that
-- corrections and anonymization have to reach every copy.
--
-- Every row is synthetic demo data: no real person is behind any CPF, e-mail
-- or phone here (e-mails use RFC 2606 reserved domains).
--
-- Identifiers (CPF, phone, CEP) are VARCHAR on purpose: the CRM stores them in
-- mixed shapes ("123.456.789-09", "12345678909", "(11) 98765-4321").
-- CNPJs are CHAR(14): digits only, or the alphanumeric form of IN RFB 2.229/2024.
--
-- Portable: MySQL 8.0+ and MariaDB 10.6+, default utf8mb4 collation (which is
-- case-insensitive on both, so e-mail lookups match mixed-case copies).
-- The loader executes this file statement by statement: keep each statement
-- ending with ";" at the end of a line, and no ";" inside statements.

CREATE TABLE IF NOT EXISTS empreendimentos (
  idempreendimento           INT          NOT NULL AUTO_INCREMENT,
  nome                       VARCHAR(120) NOT NULL,
  incorporadora_razao_social VARCHAR(150) NOT NULL,
  incorporadora_cnpj         CHAR(14)     NOT NULL,
  cidade                     VARCHAR(80)  NOT NULL,
  uf                         CHAR(2)      NOT NULL,
  data_lancamento            DATE         NULL,
  previsao_entrega           DATE         NULL,
  PRIMARY KEY (idempreendimento),
  KEY ix_empreendimentos_cnpj (incorporadora_cnpj)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: empreendimentos (sem dados pessoais)';

CREATE TABLE IF NOT EXISTS unidades (
  idunidade        INT           NOT NULL AUTO_INCREMENT,
  idempreendimento INT           NOT NULL,
  bloco            VARCHAR(10)   NOT NULL,
  numero           VARCHAR(10)   NOT NULL,
  tipo             VARCHAR(20)   NOT NULL,
  area_privativa   DECIMAL(8,2)  NOT NULL,
  quartos          TINYINT       NOT NULL,
  preco            DECIMAL(14,2) NOT NULL,
  status           VARCHAR(12)   NOT NULL,
  PRIMARY KEY (idunidade),
  UNIQUE KEY uq_unidades_numero (idempreendimento, bloco, numero),
  KEY ix_unidades_status (status),
  CONSTRAINT fk_unidades_empreendimento FOREIGN KEY (idempreendimento)
    REFERENCES empreendimentos (idempreendimento),
  CONSTRAINT ck_unidades_status CHECK (status IN ('disponivel','reservada','vendida','bloqueada'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: unidades (sem dados pessoais)';

-- The agency's manager is a person ([P]); its bank account and PIX key belong
-- to the company.
CREATE TABLE IF NOT EXISTS imobiliarias (
  idimobiliaria    INT          NOT NULL AUTO_INCREMENT,
  razao_social     VARCHAR(150) NOT NULL,
  nome_fantasia    VARCHAR(100) NOT NULL,
  cnpj             CHAR(14)     NOT NULL,
  creci_juridico   VARCHAR(20)  NOT NULL,
  gerente_nome     VARCHAR(150) NULL,
  gerente_cpf      VARCHAR(14)  NULL,
  gerente_email    VARCHAR(150) NULL,
  gerente_telefone VARCHAR(25)  NULL,
  banco            VARCHAR(60)  NULL,
  agencia          VARCHAR(10)  NULL,
  conta            VARCHAR(20)  NULL,
  chave_pix        VARCHAR(100) NULL,
  criado_em        DATETIME     NOT NULL,
  PRIMARY KEY (idimobiliaria),
  UNIQUE KEY uq_imobiliarias_cnpj (cnpj),
  KEY ix_imobiliarias_gerente_cpf (gerente_cpf),
  KEY ix_imobiliarias_gerente_email (gerente_email),
  KEY ix_imobiliarias_gerente_telefone (gerente_telefone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: imobiliarias parceiras';

CREATE TABLE IF NOT EXISTS corretores (
  idcorretor      INT          NOT NULL AUTO_INCREMENT,
  idimobiliaria   INT          NULL,
  nome            VARCHAR(150) NOT NULL,
  cpf             VARCHAR(14)  NOT NULL,
  rg              VARCHAR(20)  NULL,
  data_nascimento DATE         NULL,
  email           VARCHAR(150) NULL,
  telefone        VARCHAR(25)  NULL,
  cep             VARCHAR(9)   NULL,
  logradouro      VARCHAR(150) NULL,
  numero          VARCHAR(10)  NULL,
  complemento     VARCHAR(60)  NULL,
  bairro          VARCHAR(80)  NULL,
  cidade          VARCHAR(80)  NULL,
  uf              CHAR(2)      NULL,
  creci           VARCHAR(20)  NOT NULL,
  banco           VARCHAR(60)  NULL,
  agencia         VARCHAR(10)  NULL,
  conta           VARCHAR(20)  NULL,
  chave_pix       VARCHAR(100) NULL,
  ativo           TINYINT(1)   NOT NULL DEFAULT 1,
  criado_em       DATETIME     NOT NULL,
  PRIMARY KEY (idcorretor),
  UNIQUE KEY uq_corretores_cpf (cpf),
  KEY ix_corretores_creci (creci),
  KEY ix_corretores_email (email),
  KEY ix_corretores_telefone (telefone),
  KEY ix_corretores_imobiliaria (idimobiliaria),
  CONSTRAINT fk_corretores_imobiliaria FOREIGN KEY (idimobiliaria)
    REFERENCES imobiliarias (idimobiliaria)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: corretores';

-- Staff logins; brokers who use the CRM have one too (idcorretor).
CREATE TABLE IF NOT EXISTS usuarios (
  idusuario     INT          NOT NULL AUTO_INCREMENT,
  idcorretor    INT          NULL,
  nome          VARCHAR(150) NOT NULL,
  cpf           VARCHAR(14)  NULL,
  email         VARCHAR(150) NOT NULL,
  telefone      VARCHAR(25)  NULL,
  login         VARCHAR(60)  NOT NULL,
  perfil_acesso VARCHAR(20)  NOT NULL,
  tipo_login    VARCHAR(10)  NOT NULL,
  ativo         TINYINT(1)   NOT NULL DEFAULT 1,
  ultimo_acesso DATETIME     NULL,
  criado_em     DATETIME     NOT NULL,
  PRIMARY KEY (idusuario),
  UNIQUE KEY uq_usuarios_login (login),
  KEY ix_usuarios_cpf (cpf),
  KEY ix_usuarios_email (email),
  KEY ix_usuarios_telefone (telefone),
  KEY ix_usuarios_corretor (idcorretor),
  CONSTRAINT fk_usuarios_corretor FOREIGN KEY (idcorretor)
    REFERENCES corretores (idcorretor) ON DELETE SET NULL,
  CONSTRAINT ck_usuarios_tipo_login CHECK (tipo_login IN ('local','ad'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: usuarios do CRM';

-- The titular master record. idconjuge links spouses both ways; it is a
-- relation, not a reason to treat the spouse's row as the titular's data.
CREATE TABLE IF NOT EXISTS pessoas (
  idpessoa             INT           NOT NULL AUTO_INCREMENT,
  cpf                  VARCHAR(14)   NOT NULL,
  rg                   VARCHAR(20)   NULL,
  rg_orgao_emissor     VARCHAR(10)   NULL,
  nome                 VARCHAR(150)  NOT NULL,
  data_nascimento      DATE          NULL,
  sexo                 CHAR(1)       NULL,
  estado_civil         VARCHAR(20)   NULL,
  nome_mae             VARCHAR(150)  NULL,
  email                VARCHAR(150)  NULL,
  celular              VARCHAR(25)   NULL,
  telefone             VARCHAR(25)   NULL,
  cep                  VARCHAR(9)    NULL,
  logradouro           VARCHAR(150)  NULL,
  numero               VARCHAR(10)   NULL,
  complemento          VARCHAR(60)   NULL,
  bairro               VARCHAR(80)   NULL,
  cidade               VARCHAR(80)   NULL,
  uf                   CHAR(2)       NULL,
  profissao            VARCHAR(80)   NULL,
  renda_mensal         DECIMAL(12,2) NULL,
  menor                TINYINT(1)    NOT NULL DEFAULT 0,
  pep                  TINYINT(1)    NOT NULL DEFAULT 0,
  idconjuge            INT           NULL,
  criado_em            DATETIME      NOT NULL,
  atualizado_em        DATETIME      NOT NULL,
  PRIMARY KEY (idpessoa),
  UNIQUE KEY uq_pessoas_cpf (cpf),
  KEY ix_pessoas_email (email),
  KEY ix_pessoas_celular (celular),
  KEY ix_pessoas_telefone (telefone),
  KEY ix_pessoas_nome (nome),
  KEY ix_pessoas_conjuge (idconjuge),
  CONSTRAINT fk_pessoas_conjuge FOREIGN KEY (idconjuge)
    REFERENCES pessoas (idpessoa) ON DELETE SET NULL,
  CONSTRAINT ck_pessoas_sexo CHECK (sexo IN ('F','M'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: pessoas (cadastro mestre do titular)';

CREATE TABLE IF NOT EXISTS leads (
  idlead           INT           NOT NULL AUTO_INCREMENT,
  idpessoa         INT           NULL,
  idempreendimento INT           NULL,
  idcorretor       INT           NULL,
  nome             VARCHAR(150)  NOT NULL,
  email            VARCHAR(150)  NULL,
  telefone         VARCHAR(25)   NULL,
  cpf              VARCHAR(14)   NULL,
  renda_informada  DECIMAL(12,2) NULL,
  origem           VARCHAR(30)   NOT NULL,
  status           VARCHAR(20)   NOT NULL,
  criado_em        DATETIME      NOT NULL,
  atualizado_em    DATETIME      NOT NULL,
  PRIMARY KEY (idlead),
  KEY ix_leads_cpf (cpf),
  KEY ix_leads_email (email),
  KEY ix_leads_telefone (telefone),
  KEY ix_leads_pessoa (idpessoa),
  KEY ix_leads_empreendimento (idempreendimento),
  KEY ix_leads_corretor (idcorretor),
  CONSTRAINT fk_leads_pessoa FOREIGN KEY (idpessoa)
    REFERENCES pessoas (idpessoa),
  CONSTRAINT fk_leads_empreendimento FOREIGN KEY (idempreendimento)
    REFERENCES empreendimentos (idempreendimento),
  CONSTRAINT fk_leads_corretor FOREIGN KEY (idcorretor)
    REFERENCES corretores (idcorretor) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: leads (copias proprias de nome, e-mail, telefone, CPF)';

-- descricao is free text typed by brokers: it may hold anything, a CPF included.
CREATE TABLE IF NOT EXISTS lead_interacoes (
  idlead_interacao INT          NOT NULL AUTO_INCREMENT,
  idlead           INT          NOT NULL,
  idcorretor       INT          NULL,
  canal            VARCHAR(20)  NOT NULL,
  descricao        TEXT         NULL,
  data_interacao   DATETIME     NOT NULL,
  PRIMARY KEY (idlead_interacao),
  KEY ix_lead_interacoes_lead (idlead, data_interacao),
  KEY ix_lead_interacoes_corretor (idcorretor),
  CONSTRAINT fk_lead_interacoes_lead FOREIGN KEY (idlead)
    REFERENCES leads (idlead),
  CONSTRAINT fk_lead_interacoes_corretor FOREIGN KEY (idcorretor)
    REFERENCES corretores (idcorretor) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: interacoes com leads (texto livre)';

-- A sale, with a snapshot of the client as it was when the reservation was
-- made (cliente_*): the CRM never refreshes it from pessoas.
CREATE TABLE IF NOT EXISTS reservas (
  idreserva            INT           NOT NULL AUTO_INCREMENT,
  idunidade            INT           NOT NULL,
  idpessoa             INT           NOT NULL,
  idcorretor           INT           NULL,
  idlead               INT           NULL,
  status               VARCHAR(12)   NOT NULL,
  data_reserva         DATE          NOT NULL,
  data_venda           DATE          NULL,
  data_distrato        DATE          NULL,
  motivo_distrato      VARCHAR(200)  NULL,
  valor_contrato       DECIMAL(14,2) NOT NULL,
  valor_entrada        DECIMAL(14,2) NULL,
  valor_fgts           DECIMAL(14,2) NULL,
  valor_financiado     DECIMAL(14,2) NULL,
  cliente_nome         VARCHAR(150)  NOT NULL,
  cliente_cpf          VARCHAR(14)   NOT NULL,
  cliente_email        VARCHAR(150)  NULL,
  cliente_telefone     VARCHAR(25)   NULL,
  cliente_renda        DECIMAL(12,2) NULL,
  cliente_estado_civil VARCHAR(20)   NULL,
  cliente_idade        SMALLINT      NULL,
  criado_em            DATETIME      NOT NULL,
  atualizado_em        DATETIME      NOT NULL,
  PRIMARY KEY (idreserva),
  KEY ix_reservas_cliente_cpf (cliente_cpf),
  KEY ix_reservas_cliente_email (cliente_email),
  KEY ix_reservas_cliente_telefone (cliente_telefone),
  KEY ix_reservas_unidade (idunidade),
  KEY ix_reservas_pessoa (idpessoa),
  KEY ix_reservas_corretor (idcorretor),
  KEY ix_reservas_lead (idlead),
  KEY ix_reservas_status_venda (status, data_venda),
  CONSTRAINT fk_reservas_unidade FOREIGN KEY (idunidade)
    REFERENCES unidades (idunidade),
  CONSTRAINT fk_reservas_pessoa FOREIGN KEY (idpessoa)
    REFERENCES pessoas (idpessoa),
  CONSTRAINT fk_reservas_corretor FOREIGN KEY (idcorretor)
    REFERENCES corretores (idcorretor) ON DELETE SET NULL,
  CONSTRAINT fk_reservas_lead FOREIGN KEY (idlead)
    REFERENCES leads (idlead) ON DELETE SET NULL,
  CONSTRAINT ck_reservas_status CHECK (status IN ('reservada','vendida','distratada','cancelada'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: reservas e vendas (com copia dos dados do cliente)';

-- Other people on a sale: spouse, co-buyer, guarantor, attorney, and minor
-- dependants (tipo = dependente).
CREATE TABLE IF NOT EXISTS reserva_associados (
  idreserva_associado     INT           NOT NULL AUTO_INCREMENT,
  idreserva               INT           NOT NULL,
  idpessoa                INT           NOT NULL,
  tipo                    VARCHAR(15)   NOT NULL,
  renda                   DECIMAL(12,2) NULL,
  compoe_renda            TINYINT(1)    NOT NULL DEFAULT 0,
  percentual_participacao DECIMAL(5,2)  NULL,
  data_inclusao           DATE          NOT NULL,
  PRIMARY KEY (idreserva_associado),
  UNIQUE KEY uq_reserva_associados (idreserva, idpessoa),
  KEY ix_reserva_associados_pessoa (idpessoa),
  CONSTRAINT fk_reserva_associados_reserva FOREIGN KEY (idreserva)
    REFERENCES reservas (idreserva),
  CONSTRAINT fk_reserva_associados_pessoa FOREIGN KEY (idpessoa)
    REFERENCES pessoas (idpessoa),
  CONSTRAINT ck_reserva_associados_tipo CHECK (tipo IN ('conjuge','cocomprador','fiador','procurador','dependente'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: associados a reserva (conjuge, cocomprador, fiador, procurador, dependente)';

-- Bank financing. The correspondente bancario receives the buyer's data: it is
-- a sharing recipient (LGPD Art. 18 VII).
CREATE TABLE IF NOT EXISTS repasses (
  idrepasse           INT           NOT NULL AUTO_INCREMENT,
  idreserva           INT           NOT NULL,
  banco               VARCHAR(60)   NOT NULL,
  modalidade          VARCHAR(20)   NOT NULL,
  numero_contrato     VARCHAR(30)   NOT NULL,
  valor_financiado    DECIMAL(14,2) NOT NULL,
  valor_subsidio      DECIMAL(14,2) NULL,
  saldo_devedor       DECIMAL(14,2) NULL,
  taxa_juros_anual    DECIMAL(5,2)  NULL,
  prazo_meses         SMALLINT      NULL,
  correspondente      VARCHAR(120)  NULL,
  correspondente_cnpj CHAR(14)      NULL,
  data_assinatura     DATE          NULL,
  status              VARCHAR(20)   NOT NULL,
  PRIMARY KEY (idrepasse),
  KEY ix_repasses_reserva (idreserva),
  KEY ix_repasses_contrato (numero_contrato),
  CONSTRAINT fk_repasses_reserva FOREIGN KEY (idreserva)
    REFERENCES reservas (idreserva)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: repasses (financiamento bancario)';

-- Attachments. Exactly one owner in practice: a pessoa (optionally tied to a
-- reserva, e.g. the signed contract) or a corretor.
CREATE TABLE IF NOT EXISTS documentos (
  iddocumento   INT          NOT NULL AUTO_INCREMENT,
  idpessoa      INT          NULL,
  idreserva     INT          NULL,
  idcorretor    INT          NULL,
  tipo          VARCHAR(30)  NOT NULL,
  nome_arquivo  VARCHAR(150) NOT NULL,
  caminho       VARCHAR(255) NOT NULL,
  sha256        CHAR(64)     NOT NULL,
  tamanho_bytes INT          NOT NULL,
  assinado      TINYINT(1)   NOT NULL DEFAULT 0,
  enviado_em    DATETIME     NOT NULL,
  PRIMARY KEY (iddocumento),
  KEY ix_documentos_pessoa (idpessoa),
  KEY ix_documentos_reserva (idreserva),
  KEY ix_documentos_corretor (idcorretor),
  KEY ix_documentos_sha256 (sha256),
  CONSTRAINT fk_documentos_pessoa FOREIGN KEY (idpessoa)
    REFERENCES pessoas (idpessoa),
  CONSTRAINT fk_documentos_reserva FOREIGN KEY (idreserva)
    REFERENCES reservas (idreserva),
  CONSTRAINT fk_documentos_corretor FOREIGN KEY (idcorretor)
    REFERENCES corretores (idcorretor)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: documentos anexados';

-- The CRM's own consent terms, versioned with the hash of their text.
CREATE TABLE IF NOT EXISTS termos_consentimento (
  idtermo_consentimento INT          NOT NULL AUTO_INCREMENT,
  finalidade            VARCHAR(40)  NOT NULL,
  versao                SMALLINT     NOT NULL,
  texto                 TEXT         NOT NULL,
  texto_sha256          CHAR(64)     NOT NULL,
  vigente_desde         DATE         NOT NULL,
  vigente_ate           DATE         NULL,
  PRIMARY KEY (idtermo_consentimento),
  UNIQUE KEY uq_termos_consentimento (finalidade, versao)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: termos de consentimento do CRM';

-- Consents given on lead capture; revocation sets data_revogacao.
CREATE TABLE IF NOT EXISTS consentimentos (
  idconsentimento       INT          NOT NULL AUTO_INCREMENT,
  idtermo_consentimento INT          NOT NULL,
  idlead                INT          NOT NULL,
  concedido             TINYINT(1)   NOT NULL,
  canal                 VARCHAR(20)  NOT NULL,
  ip                    VARCHAR(45)  NULL,
  user_agent            VARCHAR(255) NULL,
  data_concessao        DATETIME     NOT NULL,
  data_revogacao        DATETIME     NULL,
  PRIMARY KEY (idconsentimento),
  KEY ix_consentimentos_lead (idlead),
  KEY ix_consentimentos_termo (idtermo_consentimento),
  CONSTRAINT fk_consentimentos_termo FOREIGN KEY (idtermo_consentimento)
    REFERENCES termos_consentimento (idtermo_consentimento),
  CONSTRAINT fk_consentimentos_lead FOREIGN KEY (idlead)
    REFERENCES leads (idlead)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
  COMMENT='Dados sinteticos de demonstracao: consentimentos registrados pelo CRM';
