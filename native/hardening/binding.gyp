{
  "targets": [
    {
      "target_name": "hardening",
      "sources": [
        "hardening.c"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      "cflags": [
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-O2",
        "-fstack-protector-strong"
      ],
      "ldflags": [
        "-Wl,-z,relro,-z,now"
      ]
    },
    {
      "target_name": "gatehouse_nodump",
      "type": "shared_library",
      "sources": [
        "nodump.c"
      ],
      "cflags": [
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-O2"
      ],
      "ldflags": [
        "-Wl,-z,relro,-z,now"
      ]
    }
  ]
}
