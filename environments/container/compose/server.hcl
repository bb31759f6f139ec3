# The lab server: PostgreSQL storage, auto-unsealed by the unsealer's transit key.
# server-start.sh fills in the password and the transit token at start.
ui           = false
api_addr     = "http://127.0.0.1:8200"
cluster_addr = "https://server:8201"

storage "postgresql" {
  connection_url = "postgres://openbao:@PG_PASSWORD@@postgres:5432/openbao?sslmode=disable"
}

seal "transit" {
  address    = "http://unsealer:8200"
  token      = "@TRANSIT_TOKEN@"
  key_name   = "autounseal"
  mount_path = "transit/"
}

listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}
