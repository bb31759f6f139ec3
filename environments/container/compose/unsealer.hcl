# The transit unsealer: raft storage on a volume, plain HTTP inside the compose network.
ui           = false
api_addr     = "http://unsealer:8200"
cluster_addr = "https://unsealer:8201"

storage "raft" {
  path                   = "/srv/lab/data"
  node_id                = "unsealer"
  performance_multiplier = 1
}

listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}
