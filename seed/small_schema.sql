-- A small CRM: the schema of each tenant in the fleet benchmark (titular bench
-- --scenario fleet), mapped by examples/fleet/datamap.yaml. Three tables, so
-- that a thousand tenant databases are quick to create: the customer, their
-- service history and their purchase proposals. Synthetic data only.

CREATE TABLE IF NOT EXISTS clientes (
  idcliente       INT          NOT NULL AUTO_INCREMENT,
  nome            VARCHAR(150) NOT NULL,
  cpf             CHAR(11)     NULL,
  email           VARCHAR(150) NULL,
  celular         VARCHAR(20)  NULL,
  data_nascimento DATE         NULL,
  criado_em       DATETIME     NOT NULL,
  PRIMARY KEY (idcliente),
  KEY ix_clientes_cpf (cpf),
  KEY ix_clientes_email (email),
  KEY ix_clientes_celular (celular)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS atendimentos (
  idatendimento    INT          NOT NULL AUTO_INCREMENT,
  idcliente        INT          NOT NULL,
  canal            VARCHAR(20)  NOT NULL,
  descricao        VARCHAR(500) NULL,
  data_atendimento DATETIME     NOT NULL,
  PRIMARY KEY (idatendimento),
  KEY ix_atendimentos_cliente (idcliente),
  CONSTRAINT fk_atendimentos_cliente FOREIGN KEY (idcliente) REFERENCES clientes (idcliente)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS propostas (
  idproposta    INT           NOT NULL AUTO_INCREMENT,
  idcliente     INT           NOT NULL,
  valor         DECIMAL(12,2) NOT NULL,
  status        VARCHAR(20)   NOT NULL,
  data_proposta DATE          NOT NULL,
  PRIMARY KEY (idproposta),
  KEY ix_propostas_cliente (idcliente),
  CONSTRAINT fk_propostas_cliente FOREIGN KEY (idcliente) REFERENCES clientes (idcliente)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
