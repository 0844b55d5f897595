"""The local Apache Kafka broker: ``plutarc kafka``, ``plutarc up`` and the test kit all run it.

Everything is in :mod:`plutarc_localkafka.launcher`; it is a library of its own so that the test kit
can start brokers without depending on the command line.
"""
