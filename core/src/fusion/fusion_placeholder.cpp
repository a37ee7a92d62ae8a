// placeholder until the fusion module lands
namespace otfuse {}
