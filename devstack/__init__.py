"""The local stack behind `make run` and the tests: moto server (DynamoDB + KMS) built from
template.yaml, the Figma emulator, and an HTTP API that routes template.yaml's paths to the
same Lambda handlers as payload-v2 events."""
