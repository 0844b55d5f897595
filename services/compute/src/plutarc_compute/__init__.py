"""plutarc compute: a host per bot, released outside its trading sessions and woken with the same
address before the next one, driven by Pulumi (docs/compute.md)."""
